"""Fast set-based writes and reads of many rows for every app: one statement per batch, arrays bound on the
server.

Django's ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` per field, which
grows quadratically in planning time with the batch (1,000 competitors took
~0.3 s), and its PostgreSQL cursor binds parameters on the client: a
``VALUES`` list of 1,000 rows is a query of thousands of placeholders that
psycopg splits and quotes in Python, and a text array of JSON strings is
escaped element by element with a regex (most of the cost of a
``bulk_create`` of price history). So on PostgreSQL this module

* binds each column as one array parameter on the server
  (``UPDATE … FROM unnest(%s::bigint[], %s::numeric[], …)``), and
* inserts with ``COPY … FROM STDIN`` (10 ms per 1,000 history rows against
  60-100 ms for ``bulk_create``).

Django has neither (``bulk_create`` has no COPY; no library we use does it
for model rows), hence the few lines by hand. Other databases (SQLite in the
embedded mode) keep ``bulk_update``/``bulk_create``. Every statement goes
through Django's cursor wrapper, so it is logged and counted like an ORM query
(``django_assert_num_queries`` sees it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

BATCH = 1000
Row = Sequence[Any]


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def server_cursor(*, binary: bool = False) -> Iterator[CursorWrapper]:
    """A Django cursor (logged, counted, execute wrappers apply) that binds parameters on the server (PostgreSQL).

    ``binary``: results come in binary format, which psycopg loads in C (Django's
    text loader of timestamptz parses each value in Python: 500,000 competitor
    times took 1-2 s of a repricing run).
    """
    from django.db.backends.postgresql.base import ServerBindingCursor
    from psycopg.pq import Format

    connection.ensure_connection()
    raw = ServerBindingCursor(connection.connection)
    if binary:
        raw.format = Format.BINARY
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    with wrapper(raw, connection) as cursor:
        yield cursor


def _is_json(field: models.Field) -> bool:
    return field.get_internal_type() == "JSONField"


def _array_type(field: models.Field) -> str:
    # JSON goes over as text and is cast per element: psycopg has no jsonb[] dumper for plain dicts
    if _is_json(field):
        return "text[]"
    return f"{field.rel_db_type(connection) if field.is_relation else field.db_type(connection)}[]"


def _encode(field: models.Field, values: list[Any]) -> list[Any]:
    if _is_json(field):
        encoder = field.encoder or DjangoJSONEncoder
        return [None if v is None else json.dumps(v, cls=encoder) for v in values]
    return values


def _arrays(columns: Sequence[models.Field], rows: Sequence[Row]) -> list[list[Any]]:
    """The rows as one list per column (the array parameters)."""
    return [_encode(c, list(values)) for c, values in zip(columns, zip(*rows, strict=True), strict=True)]


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def bulk_set_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Row]) -> None:
    """Set ``fields`` of existing rows: each row is ``(pk, value, …)`` in the order of ``fields``.

    Values are Python values of the fields (Decimal, datetime, dict for JSON); the
    caller has scoped the primary keys to its tenant when it read them.
    """
    if not rows:
        return
    columns = _fields(model, fields)
    if not is_postgresql():
        objs = [model(pk=row[0], **{c.attname: v for c, v in zip(columns, row[1:], strict=True)}) for row in rows]
        model.objects.bulk_update(objs, [c.name for c in columns], batch_size=BATCH)
        return
    meta = model._meta
    pk = meta.pk
    arrays = ", ".join(f"%b::{_array_type(c)}" for c in [pk, *columns])
    names = ", ".join(f'"{c.column}"' for c in [pk, *columns])
    sets = ", ".join(f'"{c.column}" = v."{c.column}"' + ("::jsonb" if _is_json(c) else "") for c in columns)
    # identifiers come from the model's own metadata, values are parameters
    sql = (
        f'UPDATE "{meta.db_table}" AS t SET {sets} FROM unnest({arrays}) AS v({names}) '  # noqa: S608
        f'WHERE t."{pk.column}" = v."{pk.column}"'
    )
    with server_cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.execute(sql, _arrays([pk, *columns], rows[start : start + BATCH]))


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[Row]) -> None:
    """Insert new rows (no ids returned): each row holds the values of ``fields`` (attnames, e.g. ``product_id``).

    PostgreSQL: one ``COPY`` for all rows. Elsewhere: ``bulk_create``.
    """
    if not rows:
        return
    columns = _fields(model, fields)
    if not is_postgresql():
        # one executemany (bulk_create would cut the rows into batches under SQLite's parameter limit)
        quote = connection.ops.quote_name
        names = ", ".join(quote(c.column) for c in columns)
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 (model metadata)
        params = [[c.get_db_prep_save(v, connection) for c, v in zip(columns, row, strict=True)] for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
        return
    json_at = [i for i, c in enumerate(columns) if _is_json(c)]
    encoders = {i: columns[i].encoder or DjangoJSONEncoder for i in json_at}
    names = ", ".join(f'"{c.column}"' for c in columns)
    sql = f'COPY "{model._meta.db_table}" ({names}) FROM STDIN'
    with server_cursor() as cursor:
        debug = cursor.debug_sql(sql) if isinstance(cursor, CursorDebugWrapper) else _nothing()
        with debug, cursor.cursor.copy(sql) as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = None if row[i] is None else json.dumps(row[i], cls=encoders[i])
                copy.write_row(row)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def insert_new(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Row],
    *,
    unique: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """PostgreSQL only: insert the rows that do not conflict on ``unique``; returns ``returning`` of those inserted.

    One ``INSERT … SELECT FROM unnest(…) ON CONFLICT (…) DO NOTHING RETURNING …`` per batch:
    which rows were new is known from the answer, with no read before the write (and no
    race between a read and a concurrent insert of the same row).
    """
    columns = _fields(model, fields)
    names = ", ".join(f'"{c.column}"' for c in columns)
    arrays = ", ".join(f"%b::{_array_type(c)}" for c in columns)
    values = ", ".join(f'v."{c.column}"' + ("::jsonb" if _is_json(c) else "") for c in columns)
    conflict = ", ".join(f'"{c.column}"' for c in _fields(model, unique))
    result = ", ".join(f'"{c.column}"' for c in _fields(model, returning))
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({names}) SELECT {values} FROM unnest({arrays}) AS v({names}) '  # noqa: S608
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {result}"
    )
    inserted: list[tuple[Any, ...]] = []
    with server_cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.execute(sql, _arrays(columns, rows[start : start + BATCH]))
            inserted += [tuple(r) for r in cursor.fetchall()]
    return inserted
