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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import F, Lookup, Q
from django.utils import timezone

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


# ---- upserts for the platform sync (catalog.sync) ---------------------------------------------------------
# Written by hand because Django's bulk_create(update_conflicts=True) and bulk_update prepare every value
# through get_db_prep_save and bulk_update builds a CASE WHEN per row and field: 70% of a 1000-product call
# (cProfile, docs/benchmarks.md). Here one INSERT ... ON CONFLICT DO UPDATE per table and call writes only
# the rows that changed; on PostgreSQL the rows travel as one array per column (unnest), so the statement's
# size and planning do not grow with the batch. Other databases (SQLite in the embedded mode) get
# multi-row VALUES with Django-prepared values, batched under their parameter limit.


def column_defaults(model: type[models.Model], now) -> dict[str, Any]:
    """The value an INSERT gives each column the caller does not set: the field's Python default."""
    out = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.default is timezone.now:
            out[field.attname] = now  # one timestamp for the whole call
        else:
            out[field.attname] = field.get_default()  # "" for a text column without a default, as Django
    return out


def upsert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    defaults: dict[str, Any],
    conflict: tuple[str, ...],
    update: tuple[str, ...] | None,
    returning: tuple[str, ...] = (),
) -> list[tuple]:
    """INSERT ``rows`` (attname -> value; missing columns take ``defaults``) ON CONFLICT (``conflict``) DO UPDATE
    SET ``update`` (None: a plain INSERT), returning ``returning`` of every row written."""
    if not rows:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    columns = ", ".join(quote(f.column) for f in fields)
    tail = ""
    if update is not None:
        sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in (meta.get_field(n).column for n in update))
        tail = f" ON CONFLICT ({', '.join(quote(meta.get_field(n).column) for n in conflict)}) DO UPDATE SET {sets}"
    if returning:
        tail += " RETURNING " + ", ".join(quote(meta.get_field(n).column) for n in returning)
    table = quote(meta.db_table)
    out: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays, casts = [], []
            for field, name in zip(fields, names, strict=True):
                default = defaults.get(name)
                db_type = field.db_type(connection)
                if isinstance(field, models.ForeignKey):
                    db_type = field.target_field.rel_db_type(connection)
                arrays.append(pg_array([row.get(name, default) for row in rows], field))
                casts.append(f"%s::{db_type}[]")
            # identifiers come from the model's metadata, values are parameters
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({', '.join(casts)}){tail}"  # noqa: S608
            cursor.execute(sql, arrays)
            if returning:
                out = cursor.fetchall()
            return out
        limit = connection.features.max_query_params or 10_000
        batch = max(1, limit // len(fields))
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params: list = []
            for row in chunk:
                for field, name in zip(fields, names, strict=True):
                    params.append(field.get_db_prep_save(row.get(name, defaults.get(name)), connection))
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))}{tail}"  # noqa: S608
            cursor.execute(sql, params)
            if returning:
                out += cursor.fetchall()
    return out


def pg_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_array(values: list, field: models.Field) -> str:
    """``values`` as one PostgreSQL array literal ('{1,NULL,"a \\"b\\""}'), sent as a single parameter.

    Django's psycopg cursor binds parameters client-side: thousands of placeholders, or psycopg's array
    dumper, cost more than the statement itself (cProfile: 0.5 s of a 1.8 s call); str methods build the
    literal in a few milliseconds. The server parses it under the column's type (cast in the statement).
    A column without NULLs is joined and escaped in one pass over the whole text (per-value quoting was
    100 ms of a 1,000-product call under cProfile); timestamps are formatted once per distinct value (most
    are the call's ``now``).
    """
    if isinstance(field, models.BooleanField):
        items = ("NULL" if v is None else "t" if v else "f" for v in values)
    elif isinstance(field, models.IntegerField | models.ForeignKey | models.DecimalField):
        if None not in values:
            return "{" + ",".join(map(str, values)) + "}"
        items = ("NULL" if v is None else str(v) for v in values)
    elif isinstance(field, models.DateTimeField):
        formatted: dict[Any, str] = {}
        items = (
            "NULL" if v is None else formatted.get(v) or formatted.setdefault(v, pg_quote(v.isoformat()))
            for v in values
        )
    elif isinstance(field, models.JSONField):
        items = ("NULL" if v is None else pg_quote(json.dumps(v)) for v in values)
    else:
        if values and None not in values:
            # NUL never occurs in stored text (PostgreSQL refuses it; validation rejects it), so it can stand
            # between the values while the whole text is escaped at once.
            joined = "\x00".join(map(str, values))
            if joined.count("\x00") == len(values) - 1:
                escaped = joined.replace("\\", "\\\\").replace('"', '\\"')
                return '{"' + escaped.replace("\x00", '","') + '"}'
        items = ("NULL" if v is None else pg_quote(str(v)) for v in values)
    return "{" + ",".join(items) + "}"


class AnyOf(Lookup):
    """``column = ANY('{1,2,3}'::bigint[])``: one parameter for a list of ids (see pg_array for why)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if all(type(v) is int for v in self.rhs):
            return f"{lhs} = ANY(%s::bigint[])", [*params, "{" + ",".join(map(str, self.rhs)) + "}"]
        return f"{lhs} = ANY(%s::text[])", [*params, "{" + ",".join(pg_quote(str(v)) for v in self.rhs) + "}"]


def any_of(field: str, values: Iterable[int | str]) -> Q:
    """``field`` is one of ``values``: a single array parameter on PostgreSQL, ``IN (...)`` elsewhere."""
    values = list(values)
    if connection.vendor == "postgresql":
        return Q(AnyOf(F(field), values))
    return Q(**{f"{field}__in": values})
