"""The ShopiSync external v1 surface: documented examples, validation, errors and tenant isolation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Variant
from pricing.models import Competitor, PriceChange, PricingSettings
from tests.conftest import assert_cross_tenant, assert_not_found, client_for
from tests.pricing.conftest import observe, priced_product

pytestmark = pytest.mark.django_db
BASE = "/api/external/v1"


def change(product, old: str, new: str, *, ago: timedelta = timedelta(hours=1), source: str = "auto"):
    return PriceChange.objects.create(
        tenant_id=product.tenant_id,
        product=product,
        old_price=Decimal(old),
        new_price=Decimal(new),
        reason="test",
        source=source,
        created_at=timezone.now() - ago,
    )


# --- GET /products ----------------------------------------------------------------------------------------


def test_documented_list_example_returns_active_products_with_competitors(shopisync, tenant_a):
    product = priced_product(tenant_a, price="25.00", cost="12.00", external_id=42, name="Mug")
    priced_product(tenant_a, external_id=43, name="Off")
    PricingSettings.objects.create(tenant=tenant_a, product_id=product.pk + 1, active=False)
    at = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    observe(tenant_a, product, "Rival", "24.50", at=at, url="https://rival.example/mug")
    competitor = Competitor.objects.get(product=product)

    response = shopisync.get(f"{BASE}/products?page=1&limit=20&active=true")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "success": True,
        "data": [
            {
                "id": 42,
                "title": "Mug",
                "currentPrice": "25.00",
                "costPrice": "12.00",
                "minPrice": None,
                "maxPrice": None,
                "autoReprice": False,
                "active": True,
                "strategy": "match_lowest",
                "competitors": [
                    {
                        "id": competitor.pk,
                        "name": "Rival",
                        "url": "https://rival.example/mug",
                        "currentPrice": "24.50",
                        "inStock": True,
                        "lastCheckedAt": at.isoformat().replace("+00:00", "Z"),
                    }
                ],
            }
        ],
        "pagination": {"page": 1, "limit": 20, "total": 1, "totalPages": 1},
    }


def test_list_filters_inactive_and_paginates_in_external_id_order(shopisync, tenant_a):
    for external_id in (5, 3, 9, 1):
        priced_product(tenant_a, external_id=external_id)
    PricingSettings.objects.create(tenant=tenant_a, product=tenant_a_product(tenant_a, 9), active=False)
    page2 = shopisync.get(f"{BASE}/products?page=2&limit=2").json()
    assert [p["id"] for p in page2["data"]] == [5, 9]
    assert page2["pagination"] == {"page": 2, "limit": 2, "total": 4, "totalPages": 2}
    inactive = shopisync.get(f"{BASE}/products?active=false").json()
    assert [p["id"] for p in inactive["data"]] == [9]
    assert shopisync.get(f"{BASE}/products?page=3&limit=2").json()["data"] == []


def tenant_a_product(tenant, external_id):
    from catalog.models import Product

    return Product.objects.get(tenant=tenant, external_id=external_id)


def test_list_defaults_to_fifty_per_page(shopisync, tenant_a):
    assert shopisync.get(f"{BASE}/products").json()["pagination"] == {
        "page": 1,
        "limit": 50,
        "total": 0,
        "totalPages": 0,
    }


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "limit=abc", "page=0", "page=-1", "page=x", "active=yes", "active=1"]
)
def test_bad_list_parameters_are_400(shopisync, tenant_a, query):
    response = shopisync.get(f"{BASE}/products?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert isinstance(response.json()["error"], str)


def test_list_query_count_does_not_grow_with_page_size(shopisync, tenant_a, django_assert_max_num_queries):
    for _ in range(3):
        product = priced_product(tenant_a, extra_prices=("30.00",))
        observe(tenant_a, product, "Rival", "20.00")
    shopisync.get(f"{BASE}/products")  # warm the key cache, if any
    with django_assert_max_num_queries(12) as small:
        shopisync.get(f"{BASE}/products?limit=1")
    for _ in range(12):
        product = priced_product(tenant_a, extra_prices=("30.00",))
        observe(tenant_a, product, "Rival", "20.00")
        observe(tenant_a, product, "Other", "21.00")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = shopisync.get(f"{BASE}/products?limit=200")
    assert len(response.json()["data"]) == 15


def test_list_never_shows_another_tenants_products(shopisync, tenant_a, tenant_b):
    priced_product(tenant_b, external_id=77)
    assert shopisync.get(f"{BASE}/products").json()["data"] == []


# --- GET /products/:productId ----------------------------------------------------------------------------


def test_detail_has_competitors_and_the_last_ten_changes(shopisync, tenant_a):
    product = priced_product(tenant_a, external_id=42)
    observe(tenant_a, product, "B", "20.00")
    observe(tenant_a, product, "A", "21.00")
    changes = [change(product, "20.00", f"{20 + i}.00", ago=timedelta(hours=20 - i)) for i in range(12)]
    body = shopisync.get(f"{BASE}/products/42").json()
    assert body["success"] is True
    assert [c["name"] for c in body["data"]["competitors"]] == ["A", "B"]
    history = body["data"]["priceHistory"]
    assert [h["id"] for h in history] == [c.pk for c in reversed(changes)][:10]
    assert history[0] == {
        "id": changes[-1].pk,
        "oldPrice": "20.00",
        "newPrice": "31.00",
        "reason": "test",
        "source": "auto",
        "createdAt": history[0]["createdAt"],
    }


@pytest.mark.parametrize("product_id", ["999", "99999999999999999999999"])
def test_unknown_product_is_404(shopisync, tenant_a, product_id):
    assert_not_found("pricing", shopisync.get(f"{BASE}/products/{product_id}"))
    assert_not_found("pricing", shopisync.put(f"{BASE}/products/{product_id}", {"active": False}, format="json"))
    assert_not_found("pricing", shopisync.get(f"{BASE}/price-history/{product_id}"))


def test_another_tenants_product_is_404_on_every_product_endpoint(tenant_a, keys_b):
    product = priced_product(tenant_a, external_id=42)
    other = client_for(keys_b.write.plaintext)
    assert_cross_tenant("pricing", other, "get", f"{BASE}/products/42")
    assert_cross_tenant("pricing", other, "put", f"{BASE}/products/42", {"minPrice": 1, "costPrice": 2})
    assert_cross_tenant("pricing", other, "get", f"{BASE}/price-history/42")
    assert not PricingSettings.objects.filter(product=product).exists()
    assert Variant.objects.get(product=product).cost is None


# --- PUT /products/:productId ----------------------------------------------------------------------------


def test_documented_update_example(shopisync, tenant_a, task_calls, django_capture_on_commit_callbacks):
    product = priced_product(tenant_a, external_id=42, name="Mug")
    with django_capture_on_commit_callbacks(execute=True):
        response = shopisync.put(
            f"{BASE}/products/42", data='{"minPrice": 19.99, "autoReprice": true}', content_type="application/json"
        )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["minPrice"] == "19.99" and data["autoReprice"] is True and data["priceHistory"] == []
    row = PricingSettings.objects.get(product=product)
    assert row.min_price == Decimal("19.99") and row.auto_reprice is True and row.active is True
    assert task_calls == [(tenant_a.pk, [product.pk], "settings")]


def test_cost_price_becomes_every_variants_cost(shopisync, tenant_a):
    product = priced_product(tenant_a, external_id=42, extra_prices=("30.00",))
    response = shopisync.put(f"{BASE}/products/42", {"costPrice": "11.50"}, format="json")
    assert response.json()["data"]["costPrice"] == "11.50"
    assert [v.cost for v in Variant.objects.filter(product=product)] == [Decimal("11.50")] * 2


def _product_reads(queries) -> int:
    return sum(("FROM catalog_product " in q["sql"]) or ('FROM "catalog_product"' in q["sql"]) for q in queries)


@pytest.mark.parametrize("existing", [False, True])
def test_update_reads_the_product_once_and_answers_what_a_read_shows(shopisync, tenant_a, existing):
    product = priced_product(tenant_a, external_id=42, extra_prices=("30.00",))
    observe(tenant_a, product, "Rival", "21.00")
    change(product, "25.00", "24.00")
    if existing:
        PricingSettings.objects.create(tenant=tenant_a, product=product, max_price=Decimal("90.00"))
    body = {"minPrice": "5.00", "costPrice": "11.50", "active": False}
    with CaptureQueriesContext(connection) as queries:
        response = shopisync.put(f"{BASE}/products/42", body, format="json")
    assert response.status_code == 200, response.content
    assert _product_reads(queries.captured_queries) == 1
    # the settings row: the product's read (joined), one locking read, the update; a new row adds its insert
    settings_statements = [q for q in queries.captured_queries if "pricing_pricingsettings" in q["sql"]]
    assert len(settings_statements) == (3 if existing else 4)
    assert response.json() == shopisync.get(f"{BASE}/products/42").json()


def test_update_accepts_numbers_and_strings_and_null_clears(shopisync, tenant_a):
    product = priced_product(tenant_a, external_id=42)
    shopisync.put(f"{BASE}/products/42", {"minPrice": 5, "maxPrice": "99.9"}, format="json")
    row = PricingSettings.objects.get(product=product)
    assert (row.min_price, row.max_price) == (Decimal("5.00"), Decimal("99.90"))
    shopisync.put(f"{BASE}/products/42", {"maxPrice": None, "active": False}, format="json")
    row.refresh_from_db()
    assert (row.max_price, row.active) == (None, False)


def test_money_is_parsed_without_float(shopisync, tenant_a):
    product = priced_product(tenant_a, external_id=42)
    # 0.1 + 0.2 style values survive exactly; a float round trip of 1234567890.12 would too, 0.29 shows errors
    shopisync.put(
        f"{BASE}/products/42", data='{"minPrice": 0.29, "maxPrice": 1234567890.12}', content_type="application/json"
    )
    row = PricingSettings.objects.get(product=product)
    assert row.min_price == Decimal("0.29") and row.max_price == Decimal("1234567890.12")


BAD_BODIES = [
    ('{"minPrice": 30, "maxPrice": 20}', "minPrice"),
    ('{"minPrice": -1}', "minPrice"),
    ('{"costPrice": -0.01}', "costPrice"),
    ('{"maxPrice": "abc"}', "maxPrice"),
    ('{"maxPrice": true}', "maxPrice"),
    ('{"minPrice": 1.999}', "minPrice"),
    ('{"minPrice": 1e400}', None),  # a number no float holds is refused by the parser
    ('{"minPrice": NaN}', None),
    ('{"autoReprice": "true"}', "autoReprice"),
    ('{"active": 1}', "active"),
    ('{"price": 10}', "price"),
    ('{"minPrice": 1, "strategy": "x"}', "strategy"),
    ("[1, 2]", None),
    ("{not json", None),
    ('"text"', None),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_update_is_400_and_changes_nothing(shopisync, tenant_a, body, field):
    product = priced_product(tenant_a, external_id=42, cost="5.00")
    response = shopisync.put(f"{BASE}/products/42", data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["code"] == "VALIDATION_ERROR" and isinstance(payload["error"], str)
    if field:
        assert field in payload["details"]
    assert not PricingSettings.objects.filter(product=product).exists()
    assert Variant.objects.get(product=product).cost == Decimal("5.00")


def test_min_above_stored_max_is_400_and_changes_nothing(shopisync, tenant_a):
    product = priced_product(tenant_a, external_id=42, cost="5.00")
    PricingSettings.objects.create(tenant=tenant_a, product=product, max_price=Decimal("20.00"))
    response = shopisync.put(f"{BASE}/products/42", {"minPrice": "25.00", "costPrice": 7}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert PricingSettings.objects.get(product=product).min_price is None
    assert Variant.objects.get(product=product).cost == Decimal("5.00")


def test_empty_update_changes_nothing_but_answers(shopisync, tenant_a):
    priced_product(tenant_a, external_id=42)
    response = shopisync.put(f"{BASE}/products/42", {}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["id"] == 42


# --- GET /competitors ------------------------------------------------------------------------------------


def test_competitors_list_links_the_product(shopisync, tenant_a, tenant_b):
    product = priced_product(tenant_a, external_id=42, name="Mug", price="25.00")
    observe(tenant_a, product, "Rival", "24.00")
    other = priced_product(tenant_b, external_id=42)
    observe(tenant_b, other, "Hidden", "1.00")
    body = shopisync.get(f"{BASE}/competitors").json()
    assert body["pagination"] == {"page": 1, "limit": 50, "total": 1, "totalPages": 1}
    [item] = body["data"]
    assert item["name"] == "Rival" and item["currentPrice"] == "24.00"
    assert item["product"] == {"id": 42, "title": "Mug", "currentPrice": "25.00"}


def test_competitors_query_count_is_constant(shopisync, tenant_a, django_assert_max_num_queries):
    for i in range(20):
        observe(tenant_a, priced_product(tenant_a), f"C{i}", "10.00")
    with django_assert_max_num_queries(12):
        assert len(shopisync.get(f"{BASE}/competitors?limit=200").json()["data"]) == 20


@pytest.mark.parametrize("query", ["limit=0", "limit=1000", "page=abc"])
def test_competitors_bad_parameters(shopisync, tenant_a, query):
    assert shopisync.get(f"{BASE}/competitors?{query}").status_code == 400


# --- GET /price-history/:productId -----------------------------------------------------------------------


def test_price_history_defaults_to_30_days(shopisync, tenant_a):
    product = priced_product(tenant_a, external_id=42)
    recent = change(product, "10.00", "11.00", ago=timedelta(days=2))
    change(product, "9.00", "10.00", ago=timedelta(days=31))
    body = shopisync.get(f"{BASE}/price-history/42").json()
    assert [h["id"] for h in body["data"]] == [recent.pk]
    assert body["pagination"]["total"] == 1


def test_documented_history_example_last_7_days(shopisync, tenant_a):
    product = priced_product(tenant_a, external_id=42)
    inside = change(product, "10.00", "11.00", ago=timedelta(days=6), source="manual")
    change(product, "9.00", "10.00", ago=timedelta(days=8))
    body = shopisync.get(f"{BASE}/price-history/42?days=7").json()
    assert body == {
        "success": True,
        "data": [
            {
                "id": inside.pk,
                "oldPrice": "10.00",
                "newPrice": "11.00",
                "reason": "test",
                "source": "manual",
                "createdAt": inside.created_at.isoformat().replace("+00:00", "Z"),
            }
        ],
        "pagination": {"page": 1, "limit": 50, "total": 1, "totalPages": 1},
    }


@pytest.mark.parametrize("days", ["0", "-1", "100000", "abc", "1.5"])
def test_bad_days_is_400(shopisync, tenant_a, days):
    priced_product(tenant_a, external_id=42)
    response = shopisync.get(f"{BASE}/price-history/42?days={days}")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


# --- GET /stats ------------------------------------------------------------------------------------------


def test_stats_counts_only_the_tenants_rows(shopisync, tenant_a, tenant_b):
    products = [priced_product(tenant_a) for _ in range(3)]
    PricingSettings.objects.create(tenant=tenant_a, product=products[0], active=False)
    observe(tenant_a, products[1], "A", "1.00")
    observe(tenant_a, products[1], "B", "1.00")
    change(products[1], "1.00", "2.00", ago=timedelta(hours=2))
    change(products[1], "2.00", "3.00", ago=timedelta(hours=25))
    other = priced_product(tenant_b)
    observe(tenant_b, other, "X", "1.00")
    change(other, "1.00", "2.00")
    assert shopisync.get(f"{BASE}/stats").json() == {
        "success": True,
        "data": {
            "totalProducts": 3,
            "activeProducts": 2,
            "totalCompetitors": 2,
            "priceChanges24h": 1,
            "plan": "enterprise",
            "shopDomain": "shop-a.myshopify.com",
        },
    }


# --- POST /webhooks/test ---------------------------------------------------------------------------------


def test_webhook_test_echoes_the_body_with_a_timestamp(shopisync, tenant_a):
    response = shopisync.post(
        f"{BASE}/webhooks/test", data='{"event": "ping", "amount": 19.99}', content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["data"]["received"] == {"event": "ping", "amount": 19.99}
    assert b'"amount":19.99' in response.content
    assert body["data"]["timestamp"].endswith("Z")


def test_webhook_test_rejects_invalid_json(shopisync, tenant_a):
    response = shopisync.post(f"{BASE}/webhooks/test", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_price_history_query_count_does_not_grow_with_page_size(shopisync, tenant_a, django_assert_max_num_queries):
    product = priced_product(tenant_a, external_id=42)
    for i in range(30):
        change(product, "10.00", f"{11 + i}.00", ago=timedelta(minutes=i + 1))
    shopisync.get(f"{BASE}/price-history/42?limit=1")
    with django_assert_max_num_queries(12) as small:
        shopisync.get(f"{BASE}/price-history/42?limit=1")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = shopisync.get(f"{BASE}/price-history/42?limit=200")
    assert len(response.json()["data"]) == 30
