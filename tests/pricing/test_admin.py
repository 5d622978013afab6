"""Django admin: the priced product page shows settings, competitors, history and the price chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Variant
from core.admin_display import money
from pricing import selectors, services
from pricing.charts import OURS, price_chart_svg
from pricing.models import Competitor, Observation, PriceChange, PricingSettings, RepriceRun
from tests.pricing.conftest import observe, priced_product

pytestmark = pytest.mark.django_db


def test_product_page_has_inlines_and_a_chart(admin_client, tenant_a):
    product = priced_product(tenant_a, price="20.00", name="Chart me")
    PricingSettings.objects.create(tenant=tenant_a, product=product, auto_reprice=True)
    observe(tenant_a, product, "Rival <b>", "18.00")
    services.products_reprice(tenant=tenant_a)
    assert admin_client.get("/admin/pricing/pricedproduct/").status_code == 200
    page = admin_client.get(f"/admin/pricing/pricedproduct/{product.pk}/change/").content.decode()
    assert "<svg" in page and "<polyline" in page
    assert "Rival &lt;b&gt;" in page  # competitor names are escaped in the chart
    assert "match lowest" in page  # history inline


def test_settings_saved_in_admin_take_the_products_tenant(admin_client, tenant_a):
    product = priced_product(tenant_a, price="20.00")
    url = f"/admin/pricing/pricedproduct/{product.pk}/change/"
    form = {
        "pricing-TOTAL_FORMS": "1",
        "pricing-INITIAL_FORMS": "0",
        "pricing-MIN_NUM_FORMS": "0",
        "pricing-MAX_NUM_FORMS": "1",
        "pricing-0-product": str(product.pk),
        "pricing-0-strategy": "beat_lowest",
        "pricing-0-beat_amount": "0.50",
        "pricing-0-min_margin_percent": "10",
        "pricing-0-threshold": "0.01",
        "pricing-0-no_offers": "keep",
        "pricing-0-auto_reprice": "on",
        "pricing-0-active": "on",
        "competitors-TOTAL_FORMS": "0",
        "competitors-INITIAL_FORMS": "0",
        "competitors-MIN_NUM_FORMS": "0",
        "competitors-MAX_NUM_FORMS": "1000",
        "price_changes-TOTAL_FORMS": "0",
        "price_changes-INITIAL_FORMS": "0",
        "price_changes-MIN_NUM_FORMS": "0",
        "price_changes-MAX_NUM_FORMS": "0",
    }
    response = admin_client.post(url, {**form, "new_price": "22.00", "price_reason": "promo"})
    assert response.status_code == 302, response.content.decode()[:3000]
    row = PricingSettings.objects.get(product=product)
    assert (row.tenant_id, row.strategy, row.beat_amount) == (tenant_a.pk, "beat_lowest", Decimal("0.50"))
    change = PriceChange.objects.get(product=product)
    assert (change.source, change.old_price, change.new_price) == ("manual", Decimal("20.00"), Decimal("22.00"))
    assert "promo" in change.reason
    assert Variant.objects.get(product=product).price == Decimal("22.00")


def test_chart_without_data_says_so():
    assert "No prices" in price_chart_svg({OURS: []})


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("13.0700000000000"), "13.07"),
        (Decimal("45"), "45.00"),
        (13.07, "13.07"),
        (Decimal("0.005"), "0.01"),
        (Decimal("1234.5"), "1234.50"),
        (None, "-"),
    ],
)
def test_money_is_quantized_to_the_currencys_places(value, shown):
    assert money(value) == shown


def test_product_list_shows_prices_as_money(admin_client, tenant_a):
    priced_product(tenant_a, price="13.07", name="Odd cents")
    priced_product(tenant_a, price="45", name="Whole")
    page = admin_client.get("/admin/pricing/pricedproduct/").content.decode()
    cells = re.findall(r'<td class="field-current_price">([^<]*)</td>', page)
    assert sorted(cells) == ["13.07", "45.00"]


@pytest.mark.parametrize("model", ["observation", "pricechange", "repricerun"])
def test_records_are_viewable_but_never_added_changed_or_deleted(admin_client, tenant_a, model):
    product = priced_product(tenant_a, price="20.00", name="Record me")
    PricingSettings.objects.create(tenant=tenant_a, product=product, auto_reprice=True)
    observe(tenant_a, product, "Rival", "18.00")
    services.products_reprice(tenant=tenant_a)
    row = {"observation": Observation, "pricechange": PriceChange, "repricerun": RepriceRun}[model].objects.first()
    base = f"/admin/pricing/{model}/"
    listing = admin_client.get(base)
    assert listing.status_code == 200
    assert f'href="{base}add/"' not in listing.content.decode()  # no "Add" button
    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.post(f"{base}add/", {}).status_code == 403
    view = admin_client.get(f"{base}{row.pk}/change/")
    assert view.status_code == 200 and b'name="_save"' not in view.content  # viewable, no save button
    assert admin_client.post(f"{base}{row.pk}/change/", {}).status_code == 403
    assert admin_client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


def test_records_are_labelled_with_names_not_ids(tenant_a):
    product = priced_product(tenant_a, price="20.00", name="Trail Shoe")
    row = PricingSettings.objects.create(tenant=tenant_a, product=product)
    observe(tenant_a, product, "Rival", "18.00")
    assert str(PricingSettings.objects.get(pk=row.pk)) == "pricing of Trail Shoe"
    assert str(Competitor.objects.get(product=product)) == "Rival on Trail Shoe"
    assert str(Observation.objects.select_related("competitor").get(product=product)).startswith("Rival: 18.00 at ")


def test_observation_labels_never_cost_a_query_per_row(tenant_a, django_assert_num_queries):
    product = priced_product(tenant_a, price="20.00")
    observe(tenant_a, product, "Rival", "18.00")
    rows = list(Observation.objects.filter(product=product))
    with django_assert_num_queries(0):  # a delete confirmation lists every observation
        assert [str(r).split(":")[0] for r in rows] == [f"competitor {rows[0].competitor_id}"]


def test_observation_page_names_the_competitor(admin_client, tenant_a):
    product = priced_product(tenant_a, price="20.00", name="Trail Shoe")
    observe(tenant_a, product, "Rival", "18.00")
    row = Observation.objects.get(product=product)
    page = admin_client.get(f"/admin/pricing/observation/{row.pk}/change/").content.decode()
    assert "Rival: 18.00 at" in page and "Trail Shoe" in page


def test_chart_draws_a_competitor_with_a_single_observation_as_a_marker():
    now = datetime(2026, 1, 31, 12, tzinfo=UTC)
    series = {
        OURS: [(now - timedelta(days=30), Decimal("20.00")), (now, Decimal("20.00"))],
        "Lonely": [(now - timedelta(days=3), Decimal("30.00"))],
    }
    svg = price_chart_svg(series)
    assert svg.count("<polyline") == 1  # ours only: a line needs two points
    marker = re.search(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="4" fill="([^"]+)"><title>Lonely: 30.00', svg)
    assert marker is not None
    # the marker sits on the axis the value stretched: 30.00 is the top of the plot
    assert float(marker.group(2)) == pytest.approx(16.0)
    assert ">30.00</text>" in svg and ">20.00</text>" in svg


def test_chart_shows_each_sparse_competitor_observation(tenant_a):
    product = priced_product(tenant_a, price="20.00")
    now = timezone.now()
    for hours, price in [(30, "19.00"), (20, "18.50"), (10, "18.00")]:
        observe(tenant_a, product, "Rival", price, at=now - timedelta(hours=hours))
    svg = price_chart_svg(selectors.price_chart_series(product=product))
    assert svg.count("<title>Rival:") == 3
