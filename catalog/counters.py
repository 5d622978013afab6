"""Exact row counts kept by the database with every write (issue 17): the lists' totals without COUNT(*).

A counted table (the tenant's products, a collection's memberships) has a counter table with one row per
(key, slot); the count is the sum of the key's slots. Triggers created by a migration keep it exact in the
same transaction as the write, whoever writes: the surfaces' services, the platform's set-based sync
(INSERT ... ON CONFLICT, DELETE ... WHERE), the admin and Django's cascading deletes.

The triggers' SQL for each database is core.bulk's (count_triggers_sql): statement-level triggers on
PostgreSQL, one small upsert per statement and key (a 1,000-product sync batch adds one), with per-connection
slots so concurrent syncs of one tenant do not queue on one hot counter row; row-level triggers on SQLite.

The key columns never change on an UPDATE (a product's tenant, a membership's collection), so no UPDATE
trigger is needed. The counter rows have no foreign-key constraint: a cascading delete removes the counted
rows and their parent in an order Django chooses, and a counter row written after its parent is gone must
not fail the commit. A trigger on the parent's table removes them instead.

``check`` compares every counter with COUNT(*) and ``rebuild`` recounts (manage.py recount).
"""

from __future__ import annotations

from django.db import connection, transaction

from core.bulk import CountedTable, count_triggers_sql, drop_count_triggers_sql, lock_against_writes


def _columns(c: CountedTable) -> str:
    return ", ".join(c.columns)


def fill_sql(c: CountedTable) -> str:
    """Counter rows from COUNT(*) (slot 0), for an empty counter table."""
    cols = _columns(c)
    return f"INSERT INTO {c.counter} ({cols}, slot, n) SELECT {cols}, 0, count(*) FROM {c.source} GROUP BY {cols}"  # noqa: S608


def install_sql(c: CountedTable, vendor: str) -> list[str]:
    """What a migration runs: fill the counter from the current rows, then create the triggers (``vendor``: the
    migration's database)."""
    return [fill_sql(c), *count_triggers_sql(c, vendor)]


def uninstall_sql(c: CountedTable, vendor: str) -> list[str]:
    return drop_count_triggers_sql(c, vendor)


def check(c: CountedTable) -> list[tuple[int, int, int]]:
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
def rebuild(c: CountedTable) -> int:
    """Recount every key from COUNT(*); returns the number of keys counted.

    The counted table is locked against writes (SHARE: reads go on) so no write falls between the
    count and the new counter rows.
    """
    lock_against_writes(c.source)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {c.counter}")  # noqa: S608
        cursor.execute(fill_sql(c))
        cursor.execute(f"SELECT count(*) FROM {c.counter}")  # noqa: S608
        return int(cursor.fetchone()[0])


PRODUCTS = CountedTable(
    name="catalog_product_count",
    source="catalog_product",
    counter="catalog_productcount",
    key="tenant_id",
    columns=("tenant_id",),
    parent="tenants_tenant",
)

COLLECTION_PRODUCTS = CountedTable(
    name="merchandising_collection_product_count",
    source="merchandising_collectionproduct",
    counter="merchandising_collectionproductcount",
    key="collection_id",
    columns=("collection_id", "tenant_id"),
    parent="merchandising_collection",
)
