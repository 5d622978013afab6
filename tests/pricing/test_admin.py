"""Django admin: the priced product page shows settings, competitors, history and the price chart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Variant
from pricing import services
from pricing.charts import OURS, price_chart_svg
from pricing.models import PriceChange, PricingSettings
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
