"""Hostile input, table-driven, per surface: wrong types, missing and unknown fields, huge numbers, negative
ids, NaN/Infinity, deeply nested JSON, 10 MB bodies, invalid UTF-8, SQL and HTML where ids or URLs belong,
duplicate keys. Each is answered with a 4xx in the surface's own error form and changes no row at all."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.reliability.conftest import table_counts, tenant_checksum

pytestmark = pytest.mark.django_db

PID = 7_301_000_001  # the product that exists

# Raw bodies that no JSON endpoint may accept.
RAW = {
    "not_json": b"products=1",
    "empty": b"",
    "invalid_utf8": b'{"name": "\xff\xfe\xfa"}',
    "nan": b'{"x": NaN}',
    "infinity": b'{"x": Infinity}',
    "deeply_nested": b"[" * 100_000 + b"]" * 100_000,
    "ten_mib": b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}',
    "duplicate_keys": b'{"a": 1, "a": 2}',
    "top_level_array": b"[]",
    "top_level_string": b'"hello"',
    "truncated": b'{"products": [{"id": 1',
}

# (surface, method, path) of every endpoint that takes a body
WRITE_ENDPOINTS = [
    ("merchandising", "post", "/api/v1/"),
    ("catalog", "post", "/api/v3/products"),
    ("catalog", "patch", f"/api/v3/products/{PID}"),
    ("catalog", "post", "/api/v3/shop/categories"),
    ("pricing", "put", f"/api/external/v1/products/{PID}"),
    ("platform", "put", "/api/platform/v1/products"),
    ("platform", "post", "/api/platform/v1/orders"),
    ("platform", "put", "/api/platform/v1/collections"),
    ("platform", "post", "/api/platform/v1/competitor-prices"),
    ("platform", "post", "/api/platform/v1/keys"),
]

HUGE = 2**70
SQL = "1; DROP TABLE catalog_product; --"
HTML = "<script>alert(1)</script>"

# Structured bodies: (surface, method, path, body) that are well-formed JSON but invalid.
STRUCTURED = {
    # Dynasort
    "dyn_no_action": ("merchandising", "post", "/api/v1/", {"product_id": PID}),
    "dyn_action_html": ("merchandising", "post", "/api/v1/", {"action": HTML}),
    "dyn_action_not_string": ("merchandising", "post", "/api/v1/", {"action": ["get_product"]}),
    "dyn_id_as_string": (
        "merchandising",
        "post",
        "/api/v1/",
        {"action": "set_product_boost", "product_id": str(PID), "boost": 1},
    ),
    "dyn_id_sql": ("merchandising", "post", "/api/v1/", {"action": "set_product_boost", "product_id": SQL, "boost": 1}),
    "dyn_id_negative": (
        "merchandising",
        "post",
        "/api/v1/",
        {"action": "set_product_boost", "product_id": -PID, "boost": 1},
    ),
    "dyn_id_huge": (
        "merchandising",
        "post",
        "/api/v1/",
        {"action": "set_product_boost", "product_id": HUGE, "boost": 1},
    ),
    "dyn_boost_huge": (
        "merchandising",
        "post",
        "/api/v1/",
        {"action": "set_product_boost", "product_id": PID, "boost": 10**30},
    ),
    "dyn_boost_float": (
        "merchandising",
        "post",
        "/api/v1/",
        {"action": "set_product_boost", "product_id": PID, "boost": 1.5},
    ),
    "dyn_missing_boost": ("merchandising", "post", "/api/v1/", {"action": "set_product_boost", "product_id": PID}),
    "dyn_nested_object": (
        "merchandising",
        "post",
        "/api/v1/",
        {"action": "set_product_boost", "product_id": {"$gt": 0}, "boost": 1},
    ),
    # Sortillus
    "sor_missing_wrapper": ("catalog", "post", "/api/v3/products", {"id": 1, "name": "x"}),
    "sor_missing_name": ("catalog", "post", "/api/v3/products", {"product": {"id": 1}}),
    "sor_id_negative": ("catalog", "post", "/api/v3/products", {"product": {"id": -1, "name": "x"}}),
    "sor_id_huge": ("catalog", "post", "/api/v3/products", {"product": {"id": HUGE, "name": "x"}}),
    "sor_id_sql": ("catalog", "post", "/api/v3/products", {"product": {"id": SQL, "name": "x"}}),
    "sor_name_wrong_type": ("catalog", "post", "/api/v3/products", {"product": {"id": 1, "name": ["x"]}}),
    "sor_unknown_field": ("catalog", "post", "/api/v3/products", {"product": {"id": 1, "name": "x", "tenant": 2}}),
    "sor_image_javascript": (
        "catalog",
        "patch",
        f"/api/v3/products/{PID}",
        {"product": {"image": "javascript:alert(1)"}},
    ),
    "sor_active_string": ("catalog", "patch", f"/api/v3/products/{PID}", {"product": {"active": "yes"}}),
    "sor_name_too_long": ("catalog", "patch", f"/api/v3/products/{PID}", {"product": {"name": "x" * 256}}),
    "sor_gtins_wrong_type": ("catalog", "patch", f"/api/v3/products/{PID}", {"product": {"gtins": "4006381333931"}}),
    "sor_category_list": ("catalog", "patch", f"/api/v3/products/{PID}", {"product": {"category_id": [1]}}),
    "sor_category_missing_fields": ("catalog", "post", "/api/v3/shop/categories", {"category": {"external_id": 1}}),
    # ShopiSync
    "shs_price_text": ("pricing", "put", f"/api/external/v1/products/{PID}", {"minPrice": "abc"}),
    "shs_price_negative": ("pricing", "put", f"/api/external/v1/products/{PID}", {"minPrice": -1}),
    "shs_price_huge": ("pricing", "put", f"/api/external/v1/products/{PID}", {"minPrice": 10**30}),
    "shs_price_three_decimals": ("pricing", "put", f"/api/external/v1/products/{PID}", {"minPrice": 1.234}),
    "shs_price_html": ("pricing", "put", f"/api/external/v1/products/{PID}", {"costPrice": HTML}),
    "shs_bool_string": ("pricing", "put", f"/api/external/v1/products/{PID}", {"autoReprice": "true"}),
    "shs_unknown_field": ("pricing", "put", f"/api/external/v1/products/{PID}", {"price": "1.00"}),
    "shs_min_above_max": ("pricing", "put", f"/api/external/v1/products/{PID}", {"minPrice": 50, "maxPrice": 10}),
    # Platform (envelope-level errors: item-level ones are answered per item with 200)
    "plt_products_missing": ("platform", "put", "/api/platform/v1/products", {"items": []}),
    "plt_products_not_list": ("platform", "put", "/api/platform/v1/products", {"products": {"id": 1}}),
    "plt_products_empty": ("platform", "put", "/api/platform/v1/products", {"products": []}),
    "plt_products_too_many": (
        "platform",
        "put",
        "/api/platform/v1/products",
        {"products": [{"id": i, "title": "t"} for i in range(1, 1002)]},
    ),
    "plt_products_unknown_top": (
        "platform",
        "put",
        "/api/platform/v1/products",
        {"products": [{"id": 1, "title": "t"}], "x": 1},
    ),
    "plt_orders_not_list": ("platform", "post", "/api/platform/v1/orders", {"orders": "all"}),
    "plt_collections_missing": ("platform", "put", "/api/platform/v1/collections", {}),
    "plt_observations_not_list": ("platform", "post", "/api/platform/v1/competitor-prices", {"observations": 5}),
    "plt_key_no_name": ("platform", "post", "/api/platform/v1/keys", {"permission": "read"}),
    "plt_key_bad_permission": ("platform", "post", "/api/platform/v1/keys", {"name": "k", "permission": "root"}),
    "plt_key_bad_ip": ("platform", "post", "/api/platform/v1/keys", {"name": "k", "allowed_ips": ["300.1.1.1"]}),
    "plt_key_sql_ip": ("platform", "post", "/api/platform/v1/keys", {"name": "k", "allowed_ips": [SQL]}),
    "plt_key_past_expiry": (
        "platform",
        "post",
        "/api/platform/v1/keys",
        {"name": "k", "expires_at": "2001-01-01T00:00:00Z"},
    ),
    "plt_key_rate_limit_huge": ("platform", "post", "/api/platform/v1/keys", {"name": "k", "rate_limit": HUGE}),
    "plt_key_rate_limit_negative": ("platform", "post", "/api/platform/v1/keys", {"name": "k", "rate_limit": -5}),
}

# Hostile ids in paths: answered as not found (or 4xx), never a 500 from an out-of-range integer.
PATHS = {
    "sor_get_huge": ("catalog", "get", "/api/v3/products/99999999999999999999999999"),
    "sor_recommend_huge": ("catalog", "post", "/api/v3/products/99999999999999999999999999/recommend"),
    "sor_get_negative": ("catalog", "get", "/api/v3/products/-1"),
    "sor_list_bad_page": ("catalog", "get", "/api/v3/products?page=-1"),
    "sor_list_huge_page": ("catalog", "get", "/api/v3/products?page=99999999999999999999999"),
    "sor_list_sql_filter": ("catalog", "get", f"/api/v3/products?aasm_states={SQL}"),
    "shs_get_huge": ("pricing", "get", "/api/external/v1/products/99999999999999999999999999"),
    "shs_history_huge": ("pricing", "get", "/api/external/v1/price-history/99999999999999999999999999"),
    "shs_history_days_text": ("pricing", "get", f"/api/external/v1/price-history/{PID}?days=abc"),
    "shs_list_limit_huge": ("pricing", "get", "/api/external/v1/products?limit=99999999999999999999"),
    "shs_list_page_nan": ("pricing", "get", "/api/external/v1/products?page=NaN"),
    "plt_usage_huge": ("platform", "get", "/api/platform/v1/keys/99999999999999999999999999/usage"),
    "plt_rotate_huge": ("platform", "post", "/api/platform/v1/keys/99999999999999999999999999/rotate"),
}


def assert_surface_error(surface: str, response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    body = response.json()
    if surface == "merchandising":
        assert set(body) == {"error", "message", "code"} and body["error"] is True, body
    elif surface == "catalog":
        assert isinstance(body["error"], str) and set(body) <= {"error", "errors"}, body
    else:
        assert isinstance(body["error"], str) and isinstance(body["code"], str), body
        assert set(body) <= {"error", "code", "details"}, body
    text = response.content.decode(errors="replace")
    assert "Traceback" not in text and "psycopg" not in text


@pytest.fixture
def shop(tenant_a, keys_a):
    product = factories.product(tenant_a, external_id=PID, name="Lantern")
    factories.variant(product, price="20.00")
    return keys_a


def client(keys) -> APIClient:
    c = APIClient(raise_request_exception=False)
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {keys.admin.plaintext}")
    return c


def _unchanged(keys):
    tenant = keys.admin.key.tenant
    return tenant_checksum(tenant), table_counts()


@pytest.mark.parametrize("raw", RAW.values(), ids=RAW.keys())
@pytest.mark.parametrize(
    ("surface", "method", "path"), WRITE_ENDPOINTS, ids=[f"{m}-{p}" for _, m, p in WRITE_ENDPOINTS]
)
def test_raw_hostile_bodies(shop, surface, method, path, raw):
    if raw == b"" and surface == "pricing":
        pytest.skip("ShopiSync PUT: every field is optional, an empty body is an empty update (200, nothing changes)")
    before = _unchanged(shop)
    response = getattr(client(shop), method)(path, data=raw, content_type="application/json")
    assert_surface_error(surface, response)
    if raw is RAW["ten_mib"]:
        assert response.status_code == 413
    assert _unchanged(shop) == before


@pytest.mark.parametrize("case", STRUCTURED.values(), ids=STRUCTURED.keys())
def test_structured_hostile_bodies(shop, case):
    surface, method, path, body = case
    before = _unchanged(shop)
    response = getattr(client(shop), method)(path, data=json.dumps(body), content_type="application/json")
    assert_surface_error(surface, response)
    assert _unchanged(shop) == before


@pytest.mark.parametrize("case", PATHS.values(), ids=PATHS.keys())
def test_hostile_paths_and_query_strings(shop, case):
    surface, method, path = case
    before = _unchanged(shop)
    response = getattr(client(shop), method)(path, format="json")
    assert_surface_error(surface, response)
    assert _unchanged(shop) == before
