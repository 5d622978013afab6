"""Real Shopify payloads (../shared/data/realdata): every admin and storefront product is accepted by the
platform sync, and storefront products (options without ids) can be sorted by option through Dynasort."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.api.platform_serializers import ShopifyProductSerializer, validate_each
from catalog.models import Product, ProductOption, Variant
from catalog.sync_validation import option_id_for
from config.celery import app as celery_app
from tests.conftest import client_for

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "realdata"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not REAL.exists(), reason="shared real data not present"),
]


def products_of(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    if isinstance(data, dict):
        data = data.get("products") or [data["product"]]
    return data


def real_files(folder: str) -> list[list[dict]]:
    return [products_of(path) for path in sorted((REAL / folder).glob("*.json"))]


def real_products(folder: str) -> list[dict]:
    return [p for products in real_files(folder) for p in products]


def sync(client, items: list[dict]) -> dict:
    """The items' results by status (``"rejected"``: the rejected results themselves), 200 items per call."""
    out: dict[str, list] = {"created": [], "updated": [], "duplicate": [], "rejected": []}
    for start in range(0, len(items), 200):
        response = client.put("/api/platform/v1/products", {"products": items[start : start + 200]}, format="json")
        assert response.status_code == 200, response.content[:500]
        for result in response.json()["results"]:
            out[result["status"]].append(result if result["status"] == "rejected" else result["id"])
    return out


@pytest.fixture
def platform_w(keys_a):
    return client_for(keys_a.write.plaintext)


def test_every_real_admin_and_storefront_product_passes_validation():
    products = real_products("shopify_admin") + real_products("shopify_storefront")
    assert len(products) >= 550
    valid, rejected = validate_each(ShopifyProductSerializer, products)
    assert rejected == [] and len(valid) == len(products)


def test_every_real_admin_and_storefront_product_is_stored(platform_w, tenant_a):
    # One sync per source file, as each shop's job sends them.
    files = real_files("shopify_admin") + real_files("shopify_storefront")
    refused = []
    for products in files:
        refused += sync(platform_w, products)["rejected"]
    # Shopify's products.json fixture lists four products under one variant id (808950810): a variant
    # belongs to one product, so the first keeps it and the three copies are refused for that alone.
    assert [(r["id"], list(r["errors"])) for r in refused] == [(2, ["variants"]), (3, ["variants"]), (4, ["variants"])]
    ids = {p["id"] for products in files for p in products}
    assert Product.objects.filter(tenant=tenant_a).count() == len(ids) - 3
    # No stored option lacks an id the connector can address, or the values its variants carry.
    assert not ProductOption.objects.filter(tenant=tenant_a, external_id__isnull=True).exists()
    assert not ProductOption.objects.filter(tenant=tenant_a, values=[]).exists()


def test_shopify_legacy_fixture_options_get_position_and_values_from_the_variants(platform_w, tenant_a):
    item = products_of(REAL / "shopify_admin" / "shopify_python_api_product.json")[0]
    assert "position" not in item["options"][0]
    assert sync(platform_w, [item])["rejected"] == []
    option = ProductOption.objects.get(product__external_id=item["id"])
    expected = list(dict.fromkeys(v["option1"] for v in item["variants"]))
    assert (option.position, option.values, option.external_id) == (1, expected, option_id_for(item["id"], 1))


def test_storefront_variants_are_sellable_as_available_says(platform_w, tenant_a):
    items = [p for products in real_files("shopify_storefront") for p in products[:20]]
    assert sync(platform_w, items)["rejected"] == []
    available = {v["id"]: v["available"] for p in items for v in p["variants"]}
    assert {True, False} <= set(available.values())
    stored = {v.external_id: v.sellable for v in Variant.objects.filter(tenant=tenant_a)}
    assert stored == available


def test_an_admin_variant_without_inventory_management_is_tracked(platform_w, tenant_a):
    item = next(p for p in real_products("shopify_admin") if p.get("variants"))
    item = json.loads(json.dumps(item))
    variant = item["variants"][0]
    variant.pop("inventory_management", None)
    variant["inventory_quantity"] = 0
    variant["inventory_policy"] = "deny"
    assert sync(platform_w, [item])["rejected"] == []
    stored = Variant.objects.get(tenant=tenant_a, external_id=variant["id"])
    assert stored.inventory_tracked is True and stored.sellable is False


def test_storefront_products_are_sortable_by_size_through_the_connector(
    platform_w, keys_a, tenant_a, django_capture_on_commit_callbacks
):
    item = next(
        p
        for p in real_products("shopify_storefront")
        if any(o["name"] == "Size" and o["values"][:3] == ["6-12 months", "0-6 months", "12-18 months"]
               for o in p["options"])
    )  # fmt: skip
    assert sync(platform_w, [item])["rejected"] == []
    option = next(o for o in item["options"] if o["name"] == "Size")
    dynasort = client_for(keys_a.connector.plaintext)
    saved, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    try:
        got = dynasort.post("/api/v1/", {"action": "get_product", "product_id": item["id"]}, format="json").json()
        listed = {o["name"]: o["option_id"] for o in got["data"]["options"]}
        assert listed["Size"] == option_id_for(item["id"], option["position"])
        rule = {"option_id": listed["Size"], "option_name": "Size", "sort_type": "common_sizes", "sold_out": "ignore"}
        body = {"action": "enable_product", "product_id": item["id"], "options": [rule]}
        assert dynasort.post("/api/v1/", body, format="json").json()["success"] is True
        body = {"action": "sort_product", "product_id": item["id"]}
        with django_capture_on_commit_callbacks(execute=True):
            assert dynasort.post("/api/v1/", body, format="json").json()["success"] is True
    finally:
        celery_app.conf.task_always_eager = saved
    stored = ProductOption.objects.get(product__external_id=item["id"], name="Size")
    assert stored.values[:3] == ["0-6 months", "6-12 months", "12-18 months"]
