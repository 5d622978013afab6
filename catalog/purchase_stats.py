"""The order window's purchase statistics that recommendations read (queries, cached per shop).

Orders of the last WINDOW_DAYS days, cancelled ones left out: how many hold
each product, which products are bought in the same orders (co-purchases), and
the same per category and category pair. Counts every product of a shop shares
(the window's order total, every product's order count, the category
statistics) are cached for a few minutes; a product's own co-purchases are one
query. The ranking that uses them is ``catalog.recommendation_ranking``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from catalog.models import Order, OrderLine
from tenants.models import Tenant

WINDOW_DAYS = 365
MIN_CO_PURCHASES = 3
T = TypeVar("T")
SQL_IDS = 500  # product ids per co-purchase query (SQLite's bound-parameter limit, PostgreSQL's plan size)
_CO_PURCHASE_SQL = (
    "SELECT a.product_id, b.product_id, COUNT(DISTINCT a.order_id) FROM {line} a "
    "JOIN {order} o ON o.id = a.order_id JOIN {line} b ON b.order_id = a.order_id "
    "WHERE a.tenant_id = %s AND o.tenant_id = %s AND b.tenant_id = %s AND a.product_id IN ({ids}) "
    "AND o.created_at >= %s AND o.cancelled_at IS NULL AND b.product_id IS NOT NULL AND b.product_id <> a.product_id "
    "GROUP BY a.product_id, b.product_id HAVING COUNT(DISTINCT a.order_id) >= %s"
)


STATS_SECONDS = 300  # how long the statistics every product of a shop shares are cached


def window_start() -> datetime:
    """The start of the order window: WINDOW_DAYS ago."""
    return timezone.now() - timedelta(days=WINDOW_DAYS)


def _window(tenant: Tenant, since: datetime | None = None):
    since = since or window_start()
    return OrderLine.objects.for_tenant(tenant).filter(order__created_at__gte=since, order__cancelled_at__isnull=True)


def orders_total(tenant: Tenant) -> int:
    """Orders in the window: the N of every lift. The same for every product of a shop and slow to
    count at 100k+ orders (half of one product's recommendation time), so it is cached for as long
    as the category statistics it goes with."""
    return _cached(
        tenant,
        "orders-total",
        lambda: (
            Order.objects.for_tenant(tenant).filter(created_at__gte=window_start(), cancelled_at__isnull=True).count()
        ),
    )


def co_purchase_counts(tenant: Tenant, product_ids: Sequence[int], since: datetime) -> dict[int, dict[int, int]]:
    """For each of ``product_ids``: {other product: orders of the window holding both}, at least MIN_CO_PURCHASES.

    One self-join of the window's order lines per SQL_IDS products (the ORM
    cannot pair two lines of one order and exclude the product itself in one
    query); the same query for one product and for a chunk of them, so both
    recommendation paths count alike.
    """
    line, order = OrderLine._meta.db_table, Order._meta.db_table
    out: dict[int, dict[int, int]] = {}
    ids = sorted({int(pk) for pk in product_ids})
    for start in range(0, len(ids), SQL_IDS):
        part = ids[start : start + SQL_IDS]
        # Table names come from the models and every value is a bound parameter.
        sql = _CO_PURCHASE_SQL.format(line=line, order=order, ids=", ".join(["%s"] * len(part)))
        params = [tenant.pk, tenant.pk, tenant.pk, *part, connection.ops.adapt_datetimefield_value(since)]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, MIN_CO_PURCHASES])
            for a, b, c in cursor.fetchall():
                out.setdefault(int(a), {})[int(b)] = int(c)
    return out


def order_counts(tenant: Tenant, product_ids: Iterable[int], since: datetime) -> dict[int, int]:
    """Orders of the window holding each product (products without any are left out)."""
    ids = sorted({int(pk) for pk in product_ids})
    out: dict[int, int] = {}
    for start in range(0, len(ids), 5 * SQL_IDS):
        out.update(
            _window(tenant, since)
            .filter(product_id__in=ids[start : start + 5 * SQL_IDS])
            .values("product_id")
            .annotate(n=Count("order_id", distinct=True))
            .values_list("product_id", "n")
        )
    return out


def order_counts_all(tenant: Tenant, since: datetime) -> dict[int, int]:
    """``order_counts`` of every product of the tenant, cached like the category statistics.

    A chunk's products and their partners are spread over the catalogue, and
    an IN list of a few thousand ids cost a second per chunk (PostgreSQL, 1M
    lines); one GROUP BY for the whole window serves every chunk of a run.
    """
    return _cached(
        tenant,
        "order-counts",
        lambda: dict(
            _window(tenant, since)
            .filter(product__isnull=False)
            .values("product_id")
            .annotate(n=Count("order_id", distinct=True))
            .values_list("product_id", "n")
        ),
    )


def category_stats(tenant: Tenant) -> tuple[dict[int, int], dict[int, dict[int, int]]]:
    """Orders per category and per category pair in the window.

    One scan of the window's (order, category) pairs, counted in Python and
    cached for a few minutes: category-level co-purchase rates move slowly,
    and recomputing them per product would scan every order line each time.
    """
    return _cached(tenant, "category-stats", lambda: _category_pairs(tenant))


def _category_pairs(tenant: Tenant) -> tuple[dict[int, int], dict[int, dict[int, int]]]:
    per_category: dict[int, int] = {}
    pairs: dict[int, dict[int, int]] = {}
    rows = (
        _window(tenant)
        .filter(product__category__isnull=False)
        .values_list("order_id", "product__category_id")
        .distinct()
        .order_by("order_id")
    )
    current, cats = None, []
    for order_id, category_id in [*rows.iterator(chunk_size=10_000), (None, None)]:
        if order_id != current:
            for c in cats:
                per_category[c] = per_category.get(c, 0) + 1
                row = pairs.setdefault(c, {})
                for d in cats:
                    if c != d:
                        row[d] = row.get(d, 0) + 1
            current, cats = order_id, []
        if category_id is not None:
            cats.append(category_id)
    return per_category, pairs


def _cached(tenant: Tenant, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, cached for STATS_SECONDS under the tenant (a recreated tenant of the same id starts afresh)."""
    key = f"catalog:{name}:{tenant.pk}:{tenant.created_at.timestamp():.6f}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=STATS_SECONDS)
    return value
