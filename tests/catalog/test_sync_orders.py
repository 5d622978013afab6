"""Platform order sync: one transaction, a fixed number of statements per call."""

from __future__ import annotations

from decimal import Decimal

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


def test_rollup_rebuilds_only_its_pairs_and_leaves_the_other_rows_as_they_are(tenant_a):
    """Only the pairs' rows are deleted and written: the other days of the same variants keep their row (same
    pk), even a row whose figures no longer match the lines (it is not this call's to rebuild)."""
    from datetime import UTC, date, datetime

    from tests import factories

    product = factories.product(tenant_a)
    one, two = factories.variant(product, price="5.00"), factories.variant(product, price="7.00")
    day1, day2 = date(2026, 9, 1), date(2026, 9, 2)
    for day in (day1, day2):
        factories.order(tenant_a, [(one, 1), (two, 2)], at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
    services.daily_sales_rollup(tenant=tenant_a, pairs={(one.pk, day1), (one.pk, day2), (two.pk, day1), (two.pk, day2)})
    DailySales.objects.filter(variant=one, date=day2).update(units=99)  # planted: a rebuild would overwrite it
    before = {
        (r.variant_id, r.date): (r.pk, r.units, r.revenue, r.discount)
        for r in DailySales.objects.filter(tenant=tenant_a)
    }
    factories.order(tenant_a, [(one, 3), (two, 1)], at=datetime(2026, 9, 1, 18, tzinfo=UTC))
    factories.order(tenant_a, [(one, 4), (two, 4)], at=datetime(2026, 9, 2, 18, tzinfo=UTC))

    assert services.daily_sales_rollup(tenant=tenant_a, pairs={(one.pk, day1), (two.pk, day2)}) == 2

    after = {
        (r.variant_id, r.date): (r.pk, r.units, r.revenue, r.discount)
        for r in DailySales.objects.filter(tenant=tenant_a)
    }
    assert after[(one.pk, day2)] == before[(one.pk, day2)]  # same row, planted 99 units kept
    assert after[(two.pk, day1)] == before[(two.pk, day1)]
    assert after[(one.pk, day1)][1:] == (4, Decimal("20.00"), Decimal("0.00"))
    assert after[(two.pk, day2)][1:] == (6, Decimal("42.00"), Decimal("0.00"))


def test_rollup_takes_the_utc_day_and_leaves_out_cancelled_orders(tenant_a):
    from datetime import UTC, date, datetime, timedelta, timezone

    from tests import factories

    product = factories.product(tenant_a)
    v = factories.variant(product, price="10.00")
    day = date(2026, 3, 10)
    factories.order(tenant_a, [(v, 1)], at=datetime(2026, 3, 10, 0, 0, tzinfo=UTC))  # first instant of the day
    factories.order(tenant_a, [(v, 2)], at=datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC))
    factories.order(tenant_a, [(v, 4)], at=datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC))  # the day before
    factories.order(tenant_a, [(v, 8)], at=datetime(2026, 3, 11, 0, 0, tzinfo=UTC))  # the day after
    # 20:00 on the 9th at UTC-5 is 01:00 on the 10th in UTC: it counts; 23:00 on the 10th at UTC+2 is the 10th
    factories.order(tenant_a, [(v, 16)], at=datetime(2026, 3, 9, 20, tzinfo=timezone(timedelta(hours=-5))))
    factories.order(tenant_a, [(v, 32)], at=datetime(2026, 3, 11, 1, tzinfo=timezone(timedelta(hours=2))))
    cancelled = factories.order(tenant_a, [(v, 64)], at=datetime(2026, 3, 10, 12, tzinfo=UTC))
    Order.objects.filter(pk=cancelled.pk).update(cancelled_at=datetime(2026, 3, 10, 13, tzinfo=UTC))
    OrderLine.objects.filter(order__created_at=datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)).update(
        total_discount=Decimal("1.50")
    )

    services.daily_sales_rollup(tenant=tenant_a, pairs={(v.pk, day)})

    assert list(DailySales.objects.filter(tenant=tenant_a).values_list("date", "units", "revenue", "discount")) == [
        (day, 1 + 2 + 16 + 32, Decimal("508.50"), Decimal("1.50"))
    ]


def test_rollup_reads_do_not_grow_with_the_variants_history(tenant_a, monkeypatch):
    """A pair's rollup reads that day's lines, not the variant's history: rolling up one day of a variant
    with 5 days of orders and of one with 50 takes the same statements and fetches the same rows (it read
    every line of the variant and then every order of those lines, a history import paid it on every call)."""
    from datetime import UTC, datetime, timedelta

    from django.db.backends.utils import CursorWrapper

    from tests import factories

    fetched = [0]

    def counting(name):
        def fetch(self, *args):
            rows = getattr(self.cursor, name)(*args)
            fetched[0] += 0 if rows is None else 1 if name == "fetchone" else len(rows)
            return rows

        return fetch

    product = factories.product(tenant_a)
    v, other = factories.variant(product, price="5.00"), factories.variant(product, price="6.00")
    last = datetime(2026, 6, 30, 12, tzinfo=UTC)
    factories.order(tenant_a, [(other, 1)], at=last)  # another variant's sales that day: read, not written

    def rollup_last_day() -> tuple[list[str], int, int]:
        fetched[0] = 0
        with monkeypatch.context() as m, CaptureQueriesContext(connection) as queries:
            for name in ("fetchone", "fetchmany", "fetchall"):
                m.setattr(CursorWrapper, name, counting(name), raising=False)
            written = services.daily_sales_rollup(tenant=tenant_a, pairs={(v.pk, last.date())})
        sql = [q for q in statements(queries.captured_queries) if "SAVEPOINT" not in q]  # names differ
        return sql, fetched[0], written

    for n in range(5):
        factories.order(tenant_a, [(v, 1)], at=last - timedelta(days=n))
    short = rollup_last_day()
    for n in range(5, 50):
        factories.order(tenant_a, [(v, 1)], at=last - timedelta(days=n))
    long = rollup_last_day()

    assert short == long, (short, long)
    assert short[2] == 1 and short[1] <= 4  # the variant locked, the day's 2 orders, their lines of v
    assert DailySales.objects.get(variant=v, date=last.date()).units == 1
