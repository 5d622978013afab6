"""Bulk writes for the demo generator: PostgreSQL COPY, or executemany on SQLite.

Rows that already exist (same unique key) are skipped, so a re-run adds nothing:
on PostgreSQL the rows are COPYed into a temporary table and moved over with
INSERT ... ON CONFLICT DO NOTHING; on SQLite, INSERT OR IGNORE.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Model


def _sqlite_value(value):
    # Django stores datetimes on SQLite as naive UTC text; sqlite3's own adapters are deprecated.
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def insert(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence], *, skip_existing: bool = True) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``model``'s table; returns the rows written.

    ``skip_existing=False`` writes straight into the table (COPY on PostgreSQL):
    for rows known to be new, e.g. the lines of orders just created.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if not skip_existing:
                with cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    n = 0
                    for row in rows:
                        copy.write_row(row)
                        n += 1
                return n
            cursor.execute("DROP TABLE IF EXISTS demo_load")
            cursor.execute(f"CREATE TEMP TABLE demo_load AS SELECT {cols} FROM {table} WITH NO DATA")  # noqa: S608 (model names)
            with cursor.copy(f"COPY demo_load ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM demo_load ON CONFLICT DO NOTHING")  # noqa: S608
            written = cursor.rowcount
            cursor.execute("DROP TABLE demo_load")
            return written
        placeholders = ", ".join(["%s"] * len(columns))
        verb = "INSERT OR IGNORE" if skip_existing else "INSERT"
        params = [[_sqlite_value(v) for v in row] for row in rows]
        before = connection.connection.total_changes
        cursor.executemany(f"{verb} INTO {table} ({cols}) VALUES ({placeholders})", params)
        return connection.connection.total_changes - before


class Progress:
    """A one-line progress bar on stderr: label, count, percentage, rate."""

    def __init__(self, label: str, total: int, stream=None, enabled: bool = True) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.started = self.last = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.2 or self.done >= self.total):
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = self.done / max(now - self.started, 1e-6)
        self.stream.write(
            f"\r{self.label:<14} [{bar:<30}] {self.done:>9,}/{self.total:,} {share:>4.0%} {rate:>9,.0f}/s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
