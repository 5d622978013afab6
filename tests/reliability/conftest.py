"""Fixtures of the reliability tests: two populated shops built through the public API, a checksum of one
shop's rows, and helpers for throwaway Redis and PostgreSQL servers and web processes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import models

from tenants.models import Tenant
from tests.conftest import Keys, client_for


def tenant_models() -> list[type[models.Model]]:
    """Every model with a tenant foreign key (found, not listed, so a new model is covered by itself)."""
    return [m for m in apps.get_models() if any(f.name == "tenant" for f in m._meta.get_fields())]


def tenant_checksum(tenant: Tenant) -> dict[str, str]:
    """A digest of every row the tenant owns, per model, plus the tenant row itself."""
    digests = {"tenants.Tenant": _digest(Tenant.objects.filter(pk=tenant.pk))}
    for model in tenant_models():
        digests[model._meta.label] = _digest(model.objects.filter(tenant=tenant))
    return digests


def table_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in [Tenant, *tenant_models()]}


def _digest(queryset) -> str:
    rows = list(queryset.order_by("pk").values())
    return hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()


# ---- two shops, populated through the API --------------------------------------------------------------


@dataclass
class World:
    """One shop's ids and the strings that only its rows contain."""

    keys: Keys
    product: int  # external ids
    variant: int
    option: int
    collection: int
    order: int
    category: int
    barcode: str
    product_pk: int  # internal ids
    recipe_pk: int
    key_pk: int
    markers: tuple[str, ...]


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:800])
    return response.json()


def build_world(keys: Keys, base: int, word: str, barcode: str) -> World:
    """A shop with a product (option, variants), a collection sorted by a recipe, a boost, option sorting,
    an order, a category, pricing settings and a competitor price: one of each kind of row."""
    from catalog.models import Product
    from merchandising.models import Recipe

    tenant = keys.admin.key.tenant
    admin = client_for(keys.admin.plaintext)
    product, variant, option, collection, order, category = (base + i for i in range(6))
    title = f"{word} Lantern"
    _ok(
        admin.put(
            "/api/platform/v1/products",
            {
                "products": [
                    {
                        "id": product,
                        "title": title,
                        "body_html": f"<p>{word} secret description</p>",
                        "vendor": f"{word} Works",
                        "product_type": "Lamps",
                        "handle": f"{word.lower()}-lantern",
                        "status": "active",
                        "tags": f"{word.lower()}tag",
                        "options": [{"id": option, "name": "Color", "position": 1, "values": ["Red", "Blue"]}],
                        "variants": [
                            {
                                "id": variant,
                                "title": "Red",
                                "option1": "Red",
                                "price": "40.00",
                                "cost": "10.00",
                                "sku": f"{word}-SKU-1",
                                "barcode": barcode,
                                "inventory_quantity": 5,
                                "inventory_item_id": variant + 7,
                            },
                            {
                                "id": variant + 100,
                                "title": "Blue",
                                "option1": "Blue",
                                "price": "41.00",
                                "sku": f"{word}-SKU-2",
                                "inventory_quantity": 3,
                            },
                        ],
                    }
                ]
            },
            format="json",
        )
    )
    _ok(
        admin.put(
            "/api/platform/v1/collections",
            {
                "collections": [
                    {"id": collection, "title": f"{word} Picks", "handle": "picks", "product_ids": [product]}
                ]
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"{word}-collections-1",  # a kept answer (IdempotencyRecord) of A's own
        )
    )
    _ok(
        admin.post(
            "/api/platform/v1/orders",
            {
                "orders": [
                    {
                        "id": order,
                        "created_at": "2026-11-20T10:00:00Z",
                        "line_items": [{"product_id": product, "variant_id": variant, "quantity": 2, "price": "40.00"}],
                    }
                ]
            },
            format="json",
        )
    )
    _ok(
        admin.post(
            "/api/platform/v1/competitor-prices",
            {
                "observations": [
                    {
                        "product_id": product,
                        "competitor": f"{word} Rival",
                        "url": f"https://{word.lower()}.example/p",
                        "price": "39.00",
                        "in_stock": True,
                        "observed_at": "2026-11-22T10:00:00Z",
                    }
                ]
            },
            format="json",
        )
    )
    _ok(admin.put(f"/api/external/v1/products/{product}", {"minPrice": "30.00", "maxPrice": "50.00"}, format="json"))
    _ok(
        admin.post(
            "/api/v3/shop/categories",
            {
                "category": {
                    "external_id": category,
                    "name": f"{word} Lighting",
                    "en_name": f"{word} Lighting",
                    "en_description": f"{word} lamps",
                }
            },
            format="json",
        ),
        201,
    )
    recipe = Recipe.objects.for_tenant(tenant).order_by("pk").first()
    connector = client_for(keys.connector.plaintext)
    for body in (
        {"action": "update_collection", "collection_id": collection, "metrics_id": recipe.pk},
        {"action": "enable_collection", "collection_id": collection},
        {"action": "set_product_boost", "product_id": product, "boost": 7},
        {
            "action": "enable_product",
            "product_id": product,
            "options": [{"option_id": option, "option_name": "Color", "sort_type": "sales"}],
        },
    ):
        _ok(connector.post("/api/v1/", body, format="json"))
    _shopify_delivery(admin, word, variant + 7)
    return World(
        keys=keys,
        product=product,
        variant=variant,
        option=option,
        collection=collection,
        order=order,
        category=category,
        barcode=barcode,
        product_pk=Product.objects.get(tenant=tenant, external_id=product).pk,
        recipe_pk=recipe.pk,
        key_pk=keys.read.key.pk,
        markers=(word, str(product), str(variant), str(option), str(collection), str(order), str(category), barcode),
    )


def _shopify_delivery(admin, word: str, inventory_item: int) -> None:
    """Connect the shop's Shopify store and receive one signed inventory webhook (delivery, watermark, level)."""
    import base64
    import hashlib
    import hmac
    import json

    from django.test import Client, TestCase

    domain, secret = f"{word.lower()}.myshopify.com", f"{word} webhook secret"
    _ok(
        admin.put(
            "/api/platform/v1/shopify/connection", {"shop_domain": domain, "webhook_secret": secret}, format="json"
        )
    )
    body = json.dumps({"inventory_item_id": inventory_item, "location_id": 1, "available": 5}).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the processing task, queued on commit
        response = Client().post(
            "/api/platform/v1/shopify/webhooks",
            body,
            content_type="application/json",
            HTTP_X_SHOPIFY_TOPIC="inventory_levels/update",
            HTTP_X_SHOPIFY_SHOP_DOMAIN=domain,
            HTTP_X_SHOPIFY_HMAC_SHA256=signature,
            HTTP_X_SHOPIFY_EVENT_ID=f"{word}-event-1",
            HTTP_X_SHOPIFY_TRIGGERED_AT="2026-11-22T10:00:00Z",
        )
    _ok(response)


@pytest.fixture
def world_a(keys_a, eager_tasks) -> World:
    return build_world(keys_a, 7_301_000_001, "Alphazed", "4006381333931")


@pytest.fixture
def world_b(keys_b, eager_tasks) -> World:
    return build_world(keys_b, 8_402_000_001, "Betavox", "5012345678900")
