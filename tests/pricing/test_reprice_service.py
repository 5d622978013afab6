"""Repricing against the database: variants move together, history is written, re-runs change nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Variant
from pricing import services
from pricing.models import PriceChange, PricingSettings, RepriceRun
from pricing.tasks import reprice_all_tenants, reprice_tenant
from tests.conftest import client_for
from tests.pricing.conftest import observe, priced_product

pytestmark = pytest.mark.django_db


def auto(product, **settings) -> PricingSettings:
    return PricingSettings.objects.create(tenant_id=product.tenant_id, product=product, auto_reprice=True, **settings)


def prices(product) -> list[Decimal]:
    return list(Variant.objects.filter(product=product).order_by("position", "id").values_list("price", flat=True))


def test_reprice_moves_all_variants_by_the_same_ratio_and_records_history(tenant_a):
    product = priced_product(tenant_a, price="20.00", extra_prices=("30.00", "25.00"))
    auto(product)
    observe(tenant_a, product, "Rival", "18.00")
    run = services.products_reprice(tenant=tenant_a)
    # ratio 18/20 = 0.9: 30.00 -> 27.00, 25.00 -> 22.50
    assert prices(product) == [Decimal("18.00"), Decimal("27.00"), Decimal("22.50")]
    change = PriceChange.objects.get(product=product)
    assert (change.old_price, change.new_price, change.source) == (Decimal("20.00"), Decimal("18.00"), "auto")
    assert "match lowest" in change.reason
    assert change.details["reference"] == "18.00"
    assert (run.state, run.products_checked, run.products_changed) == ("done", 1, 1)


def test_a_second_run_changes_nothing(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    auto(product, strategy="beat_lowest", beat_amount=Decimal("0.50"))
    observe(tenant_a, product, "Rival", "18.00")
    services.products_reprice(tenant=tenant_a)
    second = services.products_reprice(tenant=tenant_a)
    assert prices(product) == [Decimal("17.50")]
    assert PriceChange.objects.count() == 1
    assert second.products_changed == 0


def test_cost_and_min_price_bound_the_result(tenant_a):
    product = priced_product(tenant_a, price="20.00", cost="15.00")
    auto(product, min_price=Decimal("16.00"))
    observe(tenant_a, product, "Cheap", "9.99")
    services.products_reprice(tenant=tenant_a)
    assert prices(product) == [Decimal("16.00")]


def test_stale_and_out_of_stock_competitors_are_ignored(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    auto(product)
    observe(tenant_a, product, "Old", "5.00", at=timezone.now() - timedelta(days=3))
    observe(tenant_a, product, "Gone", "6.00", in_stock=False)
    observe(tenant_a, product, "Live", "19.00")
    services.products_reprice(tenant=tenant_a)
    assert prices(product) == [Decimal("19.00")]
    decision = PricingSettings.objects.get(product=product).last_decision
    assert decision["ignored"] == {"Old": "stale", "Gone": "out_of_stock"}


def test_products_without_auto_reprice_or_inactive_are_left_alone(tenant_a):
    manual = priced_product(tenant_a, price="20.00")
    PricingSettings.objects.create(tenant=tenant_a, product=manual, auto_reprice=False)
    paused = priced_product(tenant_a, price="20.00")
    auto(paused, active=False)
    for product in (manual, paused):
        observe(tenant_a, product, "Rival", "10.00")
    services.products_reprice(tenant=tenant_a)
    assert prices(manual) == prices(paused) == [Decimal("20.00")]
    assert not PriceChange.objects.exists()


def test_reprice_is_per_tenant(tenant_a, tenant_b):
    mine = priced_product(tenant_a, price="20.00")
    theirs = priced_product(tenant_b, price="20.00")
    for product, tenant in ((mine, tenant_a), (theirs, tenant_b)):
        auto(product)
        observe(tenant, product, "Rival", "10.00")
    services.products_reprice(tenant=tenant_a)
    assert prices(mine) == [Decimal("10.00")] and prices(theirs) == [Decimal("20.00")]


def test_repriced_price_is_what_shopisync_shows(tenant_a, keys_a):
    product = priced_product(tenant_a, price="20.00", external_id=42)
    auto(product)
    observe(tenant_a, product, "Rival", "18.00")
    reprice_tenant(tenant_a.pk)  # eager call of the task body
    body = client_for(keys_a.read.plaintext).get("/api/external/v1/products/42").json()
    assert body["data"]["currentPrice"] == "18.00"
    assert body["data"]["priceHistory"][0]["source"] == "auto"
    assert client_for(keys_a.read.plaintext).get("/api/external/v1/stats").json()["data"]["priceChanges24h"] == 1


def test_manual_price_set_records_a_manual_change(tenant_a):
    product = priced_product(tenant_a, price="20.00", extra_prices=("40.00",))
    change = services.product_price_set(tenant=tenant_a, product=product, price=Decimal("25.00"), reason="promo")
    assert prices(product) == [Decimal("25.00"), Decimal("50.00")]
    assert (change.source, change.old_price) == ("manual", Decimal("20.00"))
    assert services.product_price_set(tenant=tenant_a, product=product, price=Decimal("25.00"), reason="x") is None


def test_a_failed_run_is_left_in_error_state(tenant_a, monkeypatch):
    product = priced_product(tenant_a, price="20.00")
    auto(product)

    def boom(**kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(services, "_reprice_chunk", boom)
    with pytest.raises(RuntimeError):
        services.products_reprice(tenant=tenant_a)
    run = RepriceRun.objects.get(tenant=tenant_a)
    assert run.state == "error" and "engine exploded" in run.error and run.finished_at is not None


def test_beat_task_enqueues_tenants_with_auto_products(tenant_a, tenant_b, task_calls):
    auto(priced_product(tenant_a))
    priced_product(tenant_b)
    assert reprice_all_tenants() == 1
    assert task_calls == [(tenant_a.pk, None, "schedule")]


def test_a_price_changed_in_the_shop_is_recorded_as_sync(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    auto(product)
    observe(tenant_a, product, "Rival", "18.00")
    services.products_reprice(tenant=tenant_a)
    Variant.objects.filter(product=product).update(price=Decimal("21.00"))  # the shop's own change, synced
    run = services.products_reprice(tenant=tenant_a)
    history = list(PriceChange.objects.filter(product=product).order_by("-created_at", "-id"))
    assert [(c.source, c.old_price, c.new_price) for c in history] == [
        ("auto", Decimal("21.00"), Decimal("18.00")),
        ("sync", Decimal("18.00"), Decimal("21.00")),
        ("auto", Decimal("20.00"), Decimal("18.00")),
    ]
    assert run.products_changed == 1
    services.products_reprice(tenant=tenant_a)
    assert PriceChange.objects.filter(product=product).count() == 3


def test_a_run_after_a_change_reads_and_writes_nothing_more(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    auto(product, strategy="beat_lowest", beat_amount=Decimal("0.50"))
    observe(tenant_a, product, "Rival", "18.00")
    services.products_reprice(tenant=tenant_a)
    settings = PricingSettings.objects.get(product=product)
    with CaptureQueriesContext(connection) as queries:
        second = services.products_reprice(tenant=tenant_a)
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("UPDATE", "INSERT", "COPY")]
    assert len(writes) == 2 and all("pricing_repricerun" in w for w in writes)  # the run row only
    assert second.products_changed == 0
    assert PricingSettings.objects.get(product=product).last_decision == settings.last_decision


def test_an_offer_going_stale_is_decided_again(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    auto(product)
    observe(tenant_a, product, "Rival", "18.00")
    services.products_reprice(tenant=tenant_a)
    services.products_reprice(tenant=tenant_a, now=timezone.now() + timedelta(days=3))
    decision = PricingSettings.objects.get(product=product).last_decision
    assert decision["ignored"] == {"Rival": "stale"} and decision["price"] is None
    assert prices(product) == [Decimal("18.00")]


def test_a_step_limited_product_keeps_moving_on_the_next_runs(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    auto(product, max_step_percent=Decimal(10))
    observe(tenant_a, product, "Rival", "10.00")
    steps = []
    for _ in range(3):
        services.products_reprice(tenant=tenant_a)
        steps += prices(product)
    assert steps == [Decimal("18.00"), Decimal("16.20"), Decimal("14.58")]


def test_a_settings_change_is_decided_again(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    settings = auto(product)
    observe(tenant_a, product, "Rival", "18.00")
    services.products_reprice(tenant=tenant_a)
    settings.refresh_from_db()
    settings.min_price = Decimal("19.00")
    settings.save()
    services.products_reprice(tenant=tenant_a)
    assert prices(product) == [Decimal("19.00")]


def test_a_cost_change_is_decided_again(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    auto(product)
    observe(tenant_a, product, "Rival", "18.00")
    services.products_reprice(tenant=tenant_a)
    Variant.objects.filter(product=product).update(cost=Decimal("18.50"))
    services.products_reprice(tenant=tenant_a)
    assert prices(product) == [Decimal("18.50")]


def reprice_queries(tenant, count: int) -> int:
    for _ in range(count):
        product = priced_product(tenant, price="20.00", extra_prices=("30.00",))
        auto(product)
        observe(tenant, product, "Rival", "18.00")
        observe(tenant, product, "Other", "19.00", in_stock=False)
    with CaptureQueriesContext(connection) as queries:
        run = services.products_reprice(tenant=tenant)
    assert run.products_changed == count
    return len(queries)


def test_a_chunk_takes_a_fixed_number_of_queries(tenant_a, tenant_b):
    # run row, id list, run saved; per chunk: savepoint, 3 reads (settings, variants, offers),
    # 3 writes (variants, history, settings), release
    assert reprice_queries(tenant_a, 1) == reprice_queries(tenant_b, 12) == 3 + 8


def test_new_prices_reach_the_product_index(tenant_a, monkeypatch, django_capture_on_commit_callbacks):
    """Recommendations read prices from the product index: a repriced or hand-priced product is patched into
    every process's index after the commit, and a run that changes nothing tells it nothing."""
    from catalog import index

    told = []
    monkeypatch.setattr(index, "products_changed", lambda tenant, ids=None: told.append((tenant.pk, ids)))
    moved, kept = priced_product(tenant_a, price="20.00"), priced_product(tenant_a, price="15.00")
    auto(moved)
    auto(kept)
    observe(tenant_a, moved, "Rival", "18.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.products_reprice(tenant=tenant_a)
    assert told == [(tenant_a.pk, [moved.pk])]
    with django_capture_on_commit_callbacks(execute=True):
        services.products_reprice(tenant=tenant_a)
    assert told == [(tenant_a.pk, [moved.pk])]
    with django_capture_on_commit_callbacks(execute=True):
        services.product_price_set(tenant=tenant_a, product=kept, price=Decimal("14.00"), reason="by hand")
    assert told[-1] == (tenant_a.pk, [kept.pk])
