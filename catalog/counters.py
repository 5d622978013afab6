"""Exact row counts kept by the database with every write (issue 17): the lists' totals without COUNT(*).

A counted table (the tenant's products, a collection's memberships) has a counter table with one row per
(key, slot); the count is the sum of the key's slots. Triggers created by a migration keep it exact in the
same transaction as the write, whoever writes: the surfaces' services, the platform's set-based sync
(INSERT ... ON CONFLICT, DELETE ... WHERE), the admin and Django's cascading deletes.

- PostgreSQL: statement-level AFTER INSERT / AFTER DELETE triggers with transition tables, one
  ``INSERT ... ON CONFLICT DO UPDATE SET n = n + delta`` per statement (grouped by key), not one per row:
  a 1,000-product sync batch adds one small upsert. The slot is ``pg_backend_pid() % SLOTS``, so two
  connections writing the same tenant at once (concurrent syncs) update different counter rows instead of
  queueing on one hot row until the first commits; one transaction always uses one slot per key, so
  the counter adds no lock-order cycle between two transactions of one tenant.
- SQLite (embedded mode, one writer at a time): row-level triggers, slot 0.

The key columns never change on an UPDATE (a product's tenant, a membership's collection), so no UPDATE
trigger is needed. The counter rows have no foreign-key constraint: a cascading delete removes the counted
rows and their parent in an order Django chooses, and a counter row written after its parent is gone must
not fail the commit. A trigger on the parent's table removes them instead.

``check`` compares every counter with COUNT(*) and ``rebuild`` recounts (manage.py recount).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

SLOTS = 16


@dataclass(frozen=True)
class Counted:
    """A counted table: ``source`` rows counted per ``key`` (with the other ``columns`` copied) into ``counter``."""

    name: str  # prefix of the trigger and function names
    source: str  # the counted table
    counter: str  # the counter table: columns (*columns, slot, n), unique (key, slot)
    key: str  # the counted-per column, present in both tables
    columns: tuple[str, ...]  # key first, then columns copied from the source row (e.g. tenant_id)
    parent: str  # the table the key points at: deleting its row deletes the key's counter rows


def _columns(c: Counted, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{col}" for col in c.columns)


def postgresql_sql(c: Counted) -> list[str]:
    """Functions and triggers that keep ``c.counter`` exact on PostgreSQL."""
    cols = _columns(c)
    sql = []
    for event, table, sign in (("INSERT", "NEW", ""), ("DELETE", "OLD", "-")):
        fn = f"{c.name}_{event.lower()}"
        sql.append(
            f"""CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {c.counter} ({cols}, slot, n)
    SELECT {cols}, pg_backend_pid() % {SLOTS}, {sign}count(*) FROM counted_rows GROUP BY {cols} ORDER BY {cols}
    ON CONFLICT ({c.key}, slot) DO UPDATE SET n = {c.counter}.n + EXCLUDED.n;
    RETURN NULL;
END $$"""  # noqa: S608 (names from the Counted constants below)
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
END $$"""  # noqa: S608 (names from the Counted constants below)
    )
    sql.append(
        f"CREATE TRIGGER {c.name}_parent_delete AFTER DELETE ON {c.parent} REFERENCING OLD TABLE AS parent_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {c.name}_parent_delete()"
    )
    return sql


def postgresql_drop_sql(c: Counted) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {c.name}_insert ON {c.source}",
        f"DROP TRIGGER IF EXISTS {c.name}_delete ON {c.source}",
        f"DROP TRIGGER IF EXISTS {c.name}_parent_delete ON {c.parent}",
        f"DROP FUNCTION IF EXISTS {c.name}_insert()",
        f"DROP FUNCTION IF EXISTS {c.name}_delete()",
        f"DROP FUNCTION IF EXISTS {c.name}_parent_delete()",
    ]


def sqlite_sql(c: Counted) -> list[str]:
    """Row-level triggers that keep ``c.counter`` exact on SQLite (slot 0)."""
    sql = []
    for event, row, delta in (("INSERT", "NEW", 1), ("DELETE", "OLD", -1)):
        sql.append(
            f"""CREATE TRIGGER {c.name}_{event.lower()} AFTER {event} ON {c.source} FOR EACH ROW BEGIN
    INSERT INTO {c.counter} ({_columns(c)}, slot, n) VALUES ({_columns(c, row + ".")}, 0, {delta})
    ON CONFLICT ({c.key}, slot) DO UPDATE SET n = n + ({delta});
END"""  # noqa: S608
        )
    sql.append(
        f"""CREATE TRIGGER {c.name}_parent_delete AFTER DELETE ON {c.parent} FOR EACH ROW BEGIN
    DELETE FROM {c.counter} WHERE {c.key} = OLD.id;
END"""  # noqa: S608
    )
    return sql


def sqlite_drop_sql(c: Counted) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {c.name}_{t}" for t in ("insert", "delete", "parent_delete")]


def fill_sql(c: Counted) -> str:
    """Counter rows from COUNT(*) (slot 0), for an empty counter table."""
    cols = _columns(c)
    return f"INSERT INTO {c.counter} ({cols}, slot, n) SELECT {cols}, 0, count(*) FROM {c.source} GROUP BY {cols}"  # noqa: S608


def install_sql(c: Counted, vendor: str) -> list[str]:
    """What a migration runs: fill the counter from the current rows, then create the triggers."""
    triggers = postgresql_sql(c) if vendor == "postgresql" else sqlite_sql(c)
    return [fill_sql(c), *triggers]


def uninstall_sql(c: Counted, vendor: str) -> list[str]:
    return postgresql_drop_sql(c) if vendor == "postgresql" else sqlite_drop_sql(c)


def check(c: Counted) -> list[tuple[int, int, int]]:
    """(key, counted, actual) for every key whose counter differs from COUNT(*): empty when all are exact."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT k, SUM(counted), SUM(actual) FROM (
                    SELECT {c.key} AS k, n AS counted, 0 AS actual FROM {c.counter}
                    UNION ALL
                    SELECT {c.key}, 0, count(*) FROM {c.source} GROUP BY {c.key}
                ) t GROUP BY k HAVING SUM(counted) <> SUM(actual) ORDER BY k"""  # noqa: S608
        )
        return [(int(k), int(counted), int(actual)) for k, counted, actual in cursor.fetchall()]


@transaction.atomic
def rebuild(c: Counted) -> int:
    """Recount every key from COUNT(*); returns the number of keys counted.

    The counted table is locked against writes (SHARE: reads go on) so no write falls between the
    count and the new counter rows.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {c.source} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {c.counter}")  # noqa: S608
        cursor.execute(fill_sql(c))
        cursor.execute(f"SELECT count(*) FROM {c.counter}")  # noqa: S608
        return int(cursor.fetchone()[0])


PRODUCTS = Counted(
    name="catalog_product_count",
    source="catalog_product",
    counter="catalog_productcount",
    key="tenant_id",
    columns=("tenant_id",),
    parent="tenants_tenant",
)

COLLECTION_PRODUCTS = Counted(
    name="merchandising_collection_product_count",
    source="merchandising_collectionproduct",
    counter="merchandising_collectionproductcount",
    key="collection_id",
    columns=("collection_id", "tenant_id"),
    parent="merchandising_collection",
)
