"""The one bulk module of every app: set-based writes and reads of many rows, and the only place that knows
SQL dialects (PostgreSQL, and SQLite for the embedded mode).

Django's ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` per field, which grows quadratically in
planning time with the batch (1,000 competitors took ~0.3 s), ``bulk_create(update_conflicts=True)``
prepares every value through ``get_db_prep_save`` (70% of a 1000-product sync call under cProfile,
docs/benchmarks.md), and a ``VALUES`` list of 1,000 rows is a query of thousands of placeholders that
psycopg splits and quotes in Python. So on PostgreSQL this module

* binds each column as one array parameter, written as an array literal by ``pg_array``
  (``UPDATE … FROM unnest(%s::bigint[], %s::numeric[], …)``, ``INSERT … SELECT * FROM unnest(…) ON CONFLICT``,
  ``column = ANY(%s::bigint[])``): one technique for every statement, whose size and planning do not grow
  with the batch; and
* inserts with ``COPY … FROM STDIN`` (10 ms per 1,000 history rows against 60-100 ms for ``bulk_create``).

Django has neither (``bulk_create`` has no COPY; no library we use does it for model rows), hence the few
lines by hand. Other databases (SQLite in the embedded mode) get ``bulk_update``, ``executemany`` and
multi-row ``VALUES`` with Django-prepared values. Every statement goes through Django's cursor wrapper, so
it is logged and counted like an ORM query (``django_assert_num_queries`` sees it). Identifiers in the SQL
come from the models' own metadata; values are always parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
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


def prefer_index_lookups() -> None:
    """For the rest of this transaction, price random page reads as SSDs serve them (PostgreSQL; elsewhere nothing).

    Look-ups that probe unique indexes for 1,000-3,000 keys each: under PostgreSQL's default
    random_page_cost (4, priced for spinning disks) the planner switches to a parallel scan of the whole
    table once it holds a few hundred thousand rows (EXPLAIN ANALYZE, 300,000 variants: 53-135 ms for 3,000
    ids, linear in the catalog), where the index answers in 2 ms; 1.1 prices random reads as the SSDs this
    runs on serve them. SET LOCAL: this transaction only.
    """
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL random_page_cost = 1.1")


# ---- array parameters (PostgreSQL) -------------------------------------------------------------------------


def pg_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_encode(field: models.Field) -> Callable[[Any], str]:
    """The field's JSON encoder (Django's by default: Decimal, datetime), one instance per call."""
    return (getattr(field, "encoder", None) or DjangoJSONEncoder)().encode


def pg_array(values: list, field: models.Field) -> str:
    """``values`` of ``field`` as one PostgreSQL array literal ('{1,NULL,"a \\"b\\""}'), sent as a single parameter.

    Django's psycopg cursor binds parameters client-side: thousands of placeholders, or psycopg's array
    dumper, cost more than the statement itself (cProfile: 0.5 s of a 1.8 s call); str methods build the
    literal in a few milliseconds (a quarter of the time of psycopg's binary list dumper on 1,000 variant
    rows). The server parses it under the column's type (cast in the statement). A column without NULLs is
    joined and escaped in one pass over the whole text (per-value quoting was 100 ms of a 1,000-product call
    under cProfile); timestamps are formatted once per distinct value (most are the call's ``now``).
    """
    if isinstance(field, models.BooleanField):
        items: Iterable[str] = ("NULL" if v is None else "t" if v else "f" for v in values)
    elif isinstance(field, models.IntegerField | models.ForeignKey | models.DecimalField | models.FloatField):
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
        encode = _json_encode(field)
        items = ("NULL" if v is None else pg_quote(encode(v)) for v in values)
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


# ---- what the apps' statements say alike on both databases -------------------------------------------------
# Each helper below takes one dialect decision, so the apps' selectors and services read as plain queries and
# bind lists of values the one way above (pg_array): tests/contracts/test_dialects.py keeps the decisions here.


def per_database(build: Callable[..., str]) -> Callable[..., str]:
    """Cache a function writing SQL text with the helpers below: built once per database vendor and arguments,
    so a request formats no SQL."""
    cache: dict[tuple, str] = {}

    @functools.wraps(build)
    def cached(*args: Any) -> str:
        key = (connection.vendor, *args)
        sql = cache.get(key)
        if sql is None:
            sql = cache[key] = build(*args)
        return sql

    return cached


def json_rows(columns: str, source: str, *, order_by: str) -> str:
    """A correlated subquery: the rows of ``source`` (``FROM … WHERE …``) as one JSON array of ``[columns]``
    arrays in ``order_by`` order, ``[]`` for none (core.sql_json.rows decodes it). PostgreSQL ``json_agg``;
    SQLite's ``json_group_array`` keeps the order of the ordered subquery it reads."""
    if is_postgresql():
        return f"COALESCE((SELECT json_agg(json_build_array({columns}) ORDER BY {order_by}) {source}), '[]'::json)"
    return (
        f"(SELECT json_group_array(json(j.row_json)) "  # noqa: S608 (the caller's constant SQL)
        f"FROM (SELECT json_array({columns}) AS row_json {source} ORDER BY {order_by}) j)"
    )


def json_value(column: str) -> str:
    """A JSON column among ``json_rows``' columns: nested as JSON, not as a string (SQLite stores JSON as text)."""
    return column if is_postgresql() else f"json({column})"


def rows_locked_by_keys(
    model: type[models.Model],
    fields: Sequence[str],
    *,
    key: Sequence[str],
    keys: Sequence[Row],
    where: Mapping[str, Any],
) -> list[tuple]:
    """``fields`` of the rows meeting ``where`` (column = value) whose ``key`` columns hold exactly one of the
    ``keys`` tuples, locked (FOR UPDATE) in primary key order, so concurrent writers of the same rows queue up
    instead of deadlocking.

    PostgreSQL: one join on an array per key column (pg_array), which locks exactly those rows (``a IN … AND
    b IN …`` would lock every combination: 5x the rows with 5 competitors per product). Elsewhere (one writer
    at a time, nothing to lock): the ORM's ``IN`` per column, the other combinations left out here.
    """
    if not keys:
        return []
    if not is_postgresql():
        wanted = {tuple(k) for k in keys}
        found = (
            model.objects.filter(**where, **{f"{name}__in": {k[i] for k in keys} for i, name in enumerate(key)})
            .select_for_update()
            .order_by("pk")
            .values_list(*key, *fields)
        )
        return [tuple(r[len(key) :]) for r in found if tuple(r[: len(key)]) in wanted]
    key_fields = _fields(model, key)
    # unbounded (_array_cast): a key cut to the column's length would match another row
    casts = [_array_cast(f) for f in key_fields]
    on = " AND ".join(f't."{f.column}" = k."{f.column}"' for f in key_fields)
    conditions = " AND ".join(f't."{f.column}" = %s' for f in _fields(model, list(where))) or "TRUE"
    selected = ", ".join(f't."{f.column}"' for f in _fields(model, fields))
    sql = (
        f"SELECT {selected} "  # noqa: S608 (names from the model)
        f'FROM "{model._meta.db_table}" AS t JOIN unnest({", ".join(casts)}) AS k({_quoted(key_fields)}) ON {on} '
        f'WHERE {conditions} ORDER BY t."{model._meta.pk.column}" FOR UPDATE OF t'
    )
    with server_cursor() as cursor:
        cursor.execute(sql, [*_columns(key_fields, keys), *where.values()])
        return cursor.fetchall()


def rows_where(
    model: type[models.Model],
    fields: Sequence[str],
    *,
    where: Mapping[str, Any],
    any_of: tuple[str, Iterable[int]],
    not_null: Sequence[str] = (),
    order_by: Sequence[str] = (),
    lock: bool = False,
) -> list[tuple]:
    """``fields`` of the rows meeting ``where`` (column = value; ``True`` / ``False``: the boolean column is / is
    not set; ``None``: IS NULL) whose ``any_of[0]`` column holds one of the integers ``any_of[1]``, with the
    ``not_null`` columns set, in ``order_by`` order (ascending), locked (FOR UPDATE) when ``lock``.

    PostgreSQL: the rows come from a server-binding cursor with binary results, which psycopg loads in C
    (Django's text loaders parse each timestamp and numeric in Python: about half the time of a repricing run
    that changes nothing), so the values are psycopg's, without the fields' ``from_db_value``: for columns whose
    Python value is the database's (numbers, text, timestamps, booleans). No queryset is built and compiled per
    call (~4 ms each under load, a tenth of a repricing chunk's read): the statement is written once per shape
    (``_rows_where_sql``, cached on every argument that shapes it, the narrow integer type included; values
    are only ever parameters). Elsewhere: the ORM.
    """
    key, values = any_of[0], list(any_of[1])
    if not all(type(v) is int for v in values):
        raise TypeError(f"rows_where: {key} values must be integers")
    if not is_postgresql():
        queryset = model.objects.filter(
            **where, **{f"{key}__in": values}, **{f"{name}__isnull": False for name in not_null}
        ).order_by(*order_by)
        return list((queryset.select_for_update() if lock else queryset).values_list(*fields))
    shape = tuple((name, value if value is None or type(value) is bool else "=") for name, value in where.items())
    sql = _rows_where_sql(
        model, tuple(fields), shape, key, narrow_int_type(values), tuple(not_null), tuple(order_by), lock
    )
    params = [value for value in where.values() if value is not None and type(value) is not bool]
    with server_cursor(binary=True) as cursor:
        cursor.execute(sql, [*params, "{" + ",".join(map(str, values)) + "}"])
        return cursor.fetchall()


@functools.cache
def _rows_where_sql(
    model: type[models.Model],
    fields: tuple[str, ...],
    where: tuple[tuple[str, Any], ...],
    key: str,
    int_type: str,
    not_null: tuple[str, ...],
    order_by: tuple[str, ...],
    lock: bool,
) -> str:
    """``rows_where``'s PostgreSQL statement of one shape: the ``where`` parameters in order, then the array."""

    def column(name: str) -> str:
        return f'"{_fields(model, [name])[0].column}"'

    conditions = []
    for name, test in where:
        if test is True:
            conditions.append(column(name))
        elif test is False:
            conditions.append(f"NOT {column(name)}")
        elif test is None:
            conditions.append(f"{column(name)} IS NULL")
        else:
            conditions.append(f"{column(name)} = %s")
    conditions.append(f"{column(key)} = ANY(%s::{int_type}[])")
    conditions += [f"{column(name)} IS NOT NULL" for name in not_null]
    sql = (
        f'SELECT {_quoted(_fields(model, fields))} FROM "{model._meta.db_table}" '  # noqa: S608 (names from the model)
        f"WHERE {' AND '.join(conditions)}"
    )
    if order_by:
        sql += f" ORDER BY {_quoted(_fields(model, order_by))}"
    return sql + " FOR UPDATE" if lock else sql


def lock_against_writes(table: str) -> None:
    """Until this transaction ends, writes to ``table`` wait and reads go on (PostgreSQL's SHARE lock; SQLite
    lets one writer at a time, this transaction once it wrote)."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE MODE")


def analyze(model_classes: Iterable[type[models.Model]]) -> None:
    """Refresh the planner's statistics of these models' tables after a bulk load (PostgreSQL; SQLite's
    planner is not given any here)."""
    if is_postgresql():
        with connection.cursor() as cursor:
            for model in model_classes:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# ---- counters kept by triggers (catalog/counters.py) ------------------------------------------------------------


@dataclass(frozen=True)
class CountedTable:
    """A counted table: ``source`` rows counted per ``key`` (with the other ``columns`` copied) into ``counter``."""

    name: str  # prefix of the trigger and function names
    source: str  # the counted table
    counter: str  # the counter table: columns (*columns, slot, n), unique (key, slot)
    key: str  # the counted-per column, present in both tables
    columns: tuple[str, ...]  # key first, then columns copied from the source row (e.g. tenant_id)
    parent: str  # the table the key points at: deleting its row deletes the key's counter rows


COUNTER_SLOTS = 16


def _counted_columns(c: CountedTable, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{col}" for col in c.columns)


def count_triggers_sql(c: CountedTable, vendor: str) -> list[str]:
    """Functions and triggers that keep ``c.counter`` exact on the database ``vendor`` (a migration's
    ``schema_editor.connection.vendor``).

    - PostgreSQL: statement-level AFTER INSERT / AFTER DELETE triggers with transition tables, one
      ``INSERT ... ON CONFLICT DO UPDATE SET n = n + delta`` per statement (grouped by key), not one per row.
      The slot is ``pg_backend_pid() % COUNTER_SLOTS``: two connections writing the same key at once update
      different counter rows instead of queueing on one hot row; one transaction always uses one slot per key.
    - SQLite (embedded mode, one writer at a time): row-level triggers, slot 0.
    """
    if vendor != "postgresql":
        return _sqlite_count_triggers_sql(c)
    cols = _counted_columns(c)
    sql = []
    for event, table, sign in (("INSERT", "NEW", ""), ("DELETE", "OLD", "-")):
        fn = f"{c.name}_{event.lower()}"
        sql.append(
            f"""CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {c.counter} ({cols}, slot, n)
    SELECT {cols}, pg_backend_pid() % {COUNTER_SLOTS}, {sign}count(*) FROM counted_rows GROUP BY {cols} ORDER BY {cols}
    ON CONFLICT ({c.key}, slot) DO UPDATE SET n = {c.counter}.n + EXCLUDED.n;
    RETURN NULL;
END $$"""  # noqa: S608 (names from the CountedTable constants)
        )
        sql.append(
            f"CREATE TRIGGER {fn} AFTER {event} ON {c.source} REFERENCING {table} TABLE AS counted_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        )
    sql.append(
        f"""CREATE OR REPLACE FUNCTION {c.name}_parent_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {c.counter} WHERE {c.key} IN (SELECT id FROM parent_rows);
    RETURN NULL;
END $$"""  # noqa: S608 (names from the CountedTable constants)
    )
    sql.append(
        f"CREATE TRIGGER {c.name}_parent_delete AFTER DELETE ON {c.parent} REFERENCING OLD TABLE AS parent_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {c.name}_parent_delete()"
    )
    return sql


def _sqlite_count_triggers_sql(c: CountedTable) -> list[str]:
    sql = []
    for event, row, delta in (("INSERT", "NEW", 1), ("DELETE", "OLD", -1)):
        sql.append(
            f"""CREATE TRIGGER {c.name}_{event.lower()} AFTER {event} ON {c.source} FOR EACH ROW BEGIN
    INSERT INTO {c.counter} ({_counted_columns(c)}, slot, n) VALUES ({_counted_columns(c, row + ".")}, 0, {delta})
    ON CONFLICT ({c.key}, slot) DO UPDATE SET n = n + ({delta});
END"""  # noqa: S608
        )
    sql.append(
        f"""CREATE TRIGGER {c.name}_parent_delete AFTER DELETE ON {c.parent} FOR EACH ROW BEGIN
    DELETE FROM {c.counter} WHERE {c.key} = OLD.id;
END"""  # noqa: S608
    )
    return sql


def drop_count_triggers_sql(c: CountedTable, vendor: str) -> list[str]:
    """What ``count_triggers_sql`` created, dropped."""
    if vendor != "postgresql":
        return [f"DROP TRIGGER IF EXISTS {c.name}_{t}" for t in ("insert", "delete", "parent_delete")]
    return [
        f"DROP TRIGGER IF EXISTS {c.name}_insert ON {c.source}",
        f"DROP TRIGGER IF EXISTS {c.name}_delete ON {c.source}",
        f"DROP TRIGGER IF EXISTS {c.name}_parent_delete ON {c.parent}",
        f"DROP FUNCTION IF EXISTS {c.name}_insert()",
        f"DROP FUNCTION IF EXISTS {c.name}_delete()",
        f"DROP FUNCTION IF EXISTS {c.name}_parent_delete()",
    ]


def _is_json(field: models.Field) -> bool:
    return isinstance(field, models.JSONField)


def _array_cast(field: models.Field) -> str:
    """``%s::<column type>[]``: one array parameter holding a column's values.

    A varchar column's array is cast unbounded: an explicit cast to varchar(n) silently cuts a longer value,
    where the column's own assignment raises "value too long" (validation rejects such values first)."""
    if isinstance(field, models.CharField):
        return "%s::varchar[]"
    return f"%s::{field.db_type(connection)}[]"


def _columns(fields: Sequence[models.Field], rows: Sequence[Row]) -> list[str]:
    """The rows as one array parameter per column."""
    return [pg_array(list(values), f) for f, values in zip(fields, zip(*rows, strict=True), strict=True)]


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.pk if name == "pk" else model._meta.get_field(name) for name in names]


def _quoted(fields: Iterable[models.Field]) -> str:
    return ", ".join(f'"{f.column}"' for f in fields)


class AnyOf(Lookup):
    """``column = ANY('{1,2,3}'::bigint[])``: one parameter for a list of values (see pg_array for why)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if all(type(v) is int for v in self.rhs):
            return f"{lhs} = ANY(%s::bigint[])", [*params, "{" + ",".join(map(str, self.rhs)) + "}"]
        return f"{lhs} = ANY(%s::text[])", [*params, "{" + ",".join(pg_quote(str(v)) for v in self.rhs) + "}"]


def narrow_int_type(values: Sequence[int]) -> str:
    """The narrowest of smallint, integer and bigint holding all ``values`` (bigint for none), as psycopg types
    a bound Python list.

    On a bigint column that is a cross-type comparison, which the planner does not hash: with the default
    random_page_cost it then keeps the index scan for 1,000 keys, where a same-type bigint array is costed as a
    hashed sequential scan (EXPLAIN ANALYZE, 1,000 of 20,000 products' competitors: 30 ms scanning the table
    against 1.5 ms through the index). For look-ups (``rows_where``) in transactions that cannot spend a
    statement on ``prefer_index_lookups``.
    """
    if not values:
        return "bigint"
    low, high = min(values), max(values)
    if low >= -(2**15) and high < 2**15:
        return "smallint"
    if low >= -(2**31) and high < 2**31:
        return "integer"
    return "bigint"


def any_of(field: str, values: Iterable[int | str]) -> Q:
    """``field`` is one of ``values``: a single array parameter on PostgreSQL, ``IN (...)`` elsewhere."""
    values = list(values)
    if is_postgresql():
        return Q(AnyOf(F(field), values))
    return Q(**{f"{field}__in": values})


# ---- writes --------------------------------------------------------------------------------------------------


def bulk_set_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Row],
    *,
    key: str = "pk",
    where: Mapping[str, Any] | None = None,
    changed_only: bool = False,
) -> None:
    """Set ``fields`` of existing rows: each row is ``(key, value, …)`` in the order of ``fields``.

    ``key`` names the column that finds a row (the primary key by default; another column must be unique
    within ``where``, plain column = value conditions every row written must also meet). ``changed_only``:
    rows whose values are already those given are not rewritten (no dead row versions; PostgreSQL).
    Values are Python values of the fields (Decimal, datetime, dict for JSON); the caller has scoped the
    keys to its tenant when it read them.
    """
    if not rows:
        return
    key_field, *columns = _fields(model, [key, *fields])
    where = dict(where or {})
    if not is_postgresql():
        pks = None
        if key != "pk":
            pks = dict(model.objects.filter(**where).values_list(key_field.attname, "pk"))
        objs = [
            model(
                pk=row[0] if pks is None else pks[row[0]],
                **{c.attname: v for c, v in zip(columns, row[1:], strict=True)},
            )
            for row in rows
            if pks is None or row[0] in pks
        ]
        model.objects.bulk_update(objs, [c.name for c in columns], batch_size=BATCH)
        return
    meta = model._meta
    sets = ", ".join(f'"{c.column}" = v."{c.column}"' for c in columns)
    conditions = [f't."{key_field.column}" = v."{key_field.column}"']
    conditions += [f't."{f.column}" = %s' for f in _fields(model, list(where))]
    if changed_only:
        conditions.append("(" + " OR ".join(f't."{c.column}" IS DISTINCT FROM v."{c.column}"' for c in columns) + ")")
    arrays = ", ".join(_array_cast(c) for c in [key_field, *columns])
    sql = (
        f'UPDATE "{meta.db_table}" AS t SET {sets} FROM unnest({arrays}) AS v({_quoted([key_field, *columns])}) '  # noqa: S608
        f"WHERE {' AND '.join(conditions)}"
    )
    with server_cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.execute(sql, [*_columns([key_field, *columns], rows[start : start + BATCH]), *where.values()])


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[Row]) -> None:
    """Insert new rows (no ids returned): each row holds the values of ``fields`` (attnames, e.g. ``product_id``).

    PostgreSQL: one ``COPY`` for all rows. Elsewhere: one ``executemany``.
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
    encoders = {i: _json_encode(c) for i, c in enumerate(columns) if _is_json(c)}
    sql = f'COPY "{model._meta.db_table}" ({_quoted(columns)}) FROM STDIN'
    with server_cursor() as cursor:
        debug = cursor.debug_sql(sql) if isinstance(cursor, CursorDebugWrapper) else nullcontext()
        with debug, cursor.cursor.copy(sql) as copy:
            for row in rows:
                if encoders:
                    row = list(row)
                    for i, encode in encoders.items():
                        row[i] = None if row[i] is None else encode(row[i])
                copy.write_row(row)


def insert_new(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Row],
    *,
    unique: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Insert the rows that do not conflict on ``unique``; returns ``returning`` of those inserted.

    PostgreSQL: one ``INSERT … SELECT FROM unnest(…) ON CONFLICT (…) DO NOTHING RETURNING …`` per batch:
    which rows were new is known from the answer, with no read before the write (and no race between a
    read and a concurrent insert of the same row). Elsewhere: the stored keys are read first, then the
    others inserted (``unique`` and ``returning`` must be among ``fields``).
    """
    if not rows:
        return []
    columns = _fields(model, fields)
    if not is_postgresql():
        at = [list(fields).index(name) for name in unique]
        existing = set(
            model.objects.filter(
                **{f"{name}__in": {r[i] for r in rows} for name, i in zip(unique, at, strict=True)}
            ).values_list(*unique)
        )
        new = [r for r in rows if tuple(r[i] for i in at) not in existing]
        model.objects.bulk_create(
            [model(**{c.attname: v for c, v in zip(columns, r, strict=True)}) for r in new], ignore_conflicts=True
        )
        out = [list(fields).index(name) for name in returning]
        return [tuple(r[i] for i in out) for r in new]
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({_quoted(columns)}) '  # noqa: S608
        f"SELECT * FROM unnest({', '.join(map(_array_cast, columns))}) "
        f"ON CONFLICT ({_quoted(_fields(model, unique))}) DO NOTHING RETURNING {_quoted(_fields(model, returning))}"
    )
    inserted: list[tuple[Any, ...]] = []
    with server_cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.execute(sql, _columns(columns, rows[start : start + BATCH]))
            inserted += [tuple(r) for r in cursor.fetchall()]
    return inserted


# ---- upserts of whole rows (the platform sync) --------------------------------------------------------------
# One INSERT ... ON CONFLICT DO UPDATE per table and call, writing only the rows the caller found changed.


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
    if is_postgresql():
        arrays = [
            pg_array([row.get(name, defaults.get(name)) for row in rows], f)
            for f, name in zip(fields, names, strict=True)
        ]
        sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({', '.join(map(_array_cast, fields))}){tail}"  # noqa: S608
        with server_cursor() as cursor:
            cursor.execute(sql, arrays)
            return cursor.fetchall() if returning else out
    limit = connection.features.max_query_params or 10_000
    batch = max(1, limit // len(fields))
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
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


# ---- deletes by key ------------------------------------------------------------------------------------------


def delete_keys(
    model: type[models.Model],
    fields: Sequence[str],
    keys: Iterable[Row],
    *,
    where: Mapping[str, Any] | None = None,
) -> int:
    """Delete exactly the rows whose values of ``fields`` are one of ``keys`` (tuples in the order of ``fields``,
    e.g. ``("variant", "date")`` and ``{(7, date(2026, 1, 2)), …}``) and that meet ``where`` (plain column =
    value conditions, e.g. the tenant). Returns the number of rows deleted.

    Not ``filter(a__in=…, b__in=…)``: that is every combination of the values, not the keys. PostgreSQL: one
    ``DELETE … USING unnest(…)`` with one array parameter per field, whatever the number of keys (the
    unique index on the fields finds each row). Elsewhere: ``(a, b) IN (VALUES (…), …)`` in batches under the
    parameter limit. No signals and no cascades (as ``QuerySet.update``): for tables nothing else points to.
    """
    keys = list(keys)
    if not keys:
        return 0
    columns = _fields(model, fields)
    where = dict(where or {})
    where_fields = _fields(model, list(where))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if is_postgresql():
        matches = " AND ".join(f't."{c.column}" = k."{c.column}"' for c in columns)
        conditions = "".join(f' AND t."{f.column}" = %s' for f in where_fields)
        sql = (
            f"DELETE FROM {table} AS t USING unnest({', '.join(map(_array_cast, columns))}) AS k({_quoted(columns)}) "  # noqa: S608
            f"WHERE {matches}{conditions}"
        )
        with server_cursor() as cursor:
            cursor.execute(sql, [*_columns(columns, keys), *where.values()])
            return cursor.rowcount
    conditions = "".join(f" AND {quote(f.column)} = %s" for f in where_fields)
    prepared_where = [f.get_db_prep_value(v, connection) for f, v in zip(where_fields, where.values(), strict=True)]
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    limit = connection.features.max_query_params or 10_000
    batch = max(1, (limit - len(where_fields)) // len(columns))
    deleted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(keys), batch):
            chunk = keys[start : start + batch]
            sql = (
                f"DELETE FROM {table} WHERE ({', '.join(quote(c.column) for c in columns)}) "  # noqa: S608 (model metadata)
                f"IN (VALUES {', '.join([row_sql] * len(chunk))}){conditions}"
            )
            params = [c.get_db_prep_value(v, connection) for key in chunk for c, v in zip(columns, key, strict=True)]
            cursor.execute(sql, [*params, *prepared_where])
            deleted += cursor.rowcount
    return deleted
