"""Platform order sync: one transaction, a fixed number of statements per call."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import DailySales, Order, OrderLine
from tests.catalog.test_platform_sync import order, post_orders, put, shopify_product
from tests.catalog.test_sync_writes import statements
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform_w(keys_a):
    return client_for(keys_a.write.plaintext)


def orders(first: int, n: int, day: int = 1) -> list[dict]:
    return [
        order(
            oid,
            [(1, 100, 1, "10.00", "0"), (2, 200, 2, "5.00", "1.00"), (9, 900, 1, "3.00", "0")],
            at=f"2025-05-{day:02d}T10:00:00Z",
        )
        for oid in range(first, first + n)
    ]


def test_order_sync_query_count_does_not_grow_with_the_orders(platform_w, tenant_a):
    put(platform_w, [shopify_product(1), shopify_product(2)])
    counts = {}
    for n, first in ((10, 1000), (100, 5000)):
        with CaptureQueriesContext(connection) as created:
            assert post_orders(platform_w, orders(first, n)).json()["counts"]["created"] == n
        with CaptureQueriesContext(connection) as moved:
            assert post_orders(platform_w, orders(first, n, day=2)).json()["counts"]["updated"] == n
        with CaptureQueriesContext(connection) as same:
            post_orders(platform_w, orders(first, n, day=2))
        counts[n] = [len(statements(c.captured_queries)) for c in (created, moved, same)]
    assert counts[10] == counts[100], counts
    assert OrderLine.objects.filter(tenant=tenant_a).count() == 330


def test_order_sync_is_one_transaction(platform_w, tenant_a, monkeypatch):
    put(platform_w, [shopify_product(1), shopify_product(2)])

    def broken_rollup(**kwargs):
        raise RuntimeError("rollup failed")

    monkeypatch.setattr(services, "daily_sales_rollup", broken_rollup)
    platform_w.raise_request_exception = False
    assert post_orders(platform_w, orders(1, 3)).status_code == 500
    assert not Order.objects.filter(tenant=tenant_a).exists()  # nothing half-applied
    assert not OrderLine.objects.filter(tenant=tenant_a).exists() and not DailySales.objects.exists()


def test_rollup_of_two_pairs_keeps_the_other_days_of_their_variants(tenant_a):
    """The rollup deletes every (variant, day) of its variants x its days: each of those is rebuilt, not only
    the pairs asked for (the sales of variant 1 on day 2 used to vanish when (1, day 1), (2, day 2) rolled up)."""
    from datetime import UTC, date, datetime

    from tests import factories

    product = factories.product(tenant_a)
    one, two = factories.variant(product, price="5.00"), factories.variant(product, price="7.00")
    day1, day2 = date(2026, 9, 1), date(2026, 9, 2)
    factories.order(tenant_a, [(one, 1)], at=datetime(2026, 9, 1, 12, tzinfo=UTC))
    factories.order(tenant_a, [(one, 3), (two, 2)], at=datetime(2026, 9, 2, 12, tzinfo=UTC))
    services.daily_sales_rollup(tenant=tenant_a, pairs={(one.pk, day1), (one.pk, day2), (two.pk, day2)})
    services.daily_sales_rollup(tenant=tenant_a, pairs={(one.pk, day1), (two.pk, day2)})
    rows = set(DailySales.objects.filter(tenant=tenant_a).values_list("variant_id", "date", "units"))
    assert rows == {(one.pk, day1, 1), (one.pk, day2, 3), (two.pk, day2, 2)}
