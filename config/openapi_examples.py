"""Request examples for the OpenAPI documents, so Swagger UI's "Try it out" starts from a request that
succeeds against the demo shop (``make run``; ids from ``seed_demo``) instead of generated placeholders
(an id above 2^63, "string" for a URL or a GTIN).

A drf-spectacular postprocessing hook puts them in: ``example`` on path parameters and named ``examples``
on request bodies. The Dynasort connector's per-action examples come from its registry
(merchandising/docs.py). tests/contracts/test_schema_examples.py runs every example against a live demo
server and checks that each operation with a body or a path parameter has one here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The demo shop (demo/generator.py, seeded by `seed_demo`): product 1000 with variants 100001...; product
# 1005 (internal id 6 on a fresh demo) gets every kind of recommendation; product 1001 has competitors;
# category 11 (L2_11) is Women, 30 is Home; key 4 is "demo read", key 5 "demo spare" (there to try
# rotation and revocation on).
DEMO_PRODUCT = 1000
DEMO_RECOMMENDED_PRODUCT = 1005
DEMO_RECOMMENDED_PRODUCT_INTERNAL_ID = 6
DEMO_PRICED_PRODUCT = 1001
DEMO_READ_KEY_ID = 4
DEMO_SPARE_KEY_ID = 5


@dataclass(frozen=True)
class Example:
    """Path parameter values and named request bodies of one operation."""

    path: dict[str, Any] = field(default_factory=dict)
    bodies: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name -> (summary, body)


LINEN_SHIRT = {
    "id": 7001,
    "title": "Linen Shirt",
    "body_html": "<p>Breathable linen</p>",
    "vendor": "Northwind",
    "product_type": "Tops",
    "handle": "linen-shirt",
    "status": "active",
    "tags": "summer, linen",
    "created_at": "2025-03-01T10:00:00Z",
    "image": {"src": "https://cdn.example.com/7001.jpg"},
    "options": [{"id": 70001, "name": "Size", "position": 1, "values": ["S", "M"]}],
    "variants": [
        {
            "id": 70011,
            "title": "S",
            "option1": "S",
            "price": "49.90",
            "compare_at_price": "59.90",
            "cost": "20.00",
            "sku": "LS-S",
            "barcode": "5000000700110",
            "inventory_quantity": 4,
            "inventory_policy": "deny",
            "inventory_management": "shopify",
        },
        {
            "id": 70012,
            "title": "M",
            "option1": "M",
            "price": "49.90",
            "sku": "LS-M",
            "inventory_quantity": 0,
            "inventory_policy": "continue",
            "inventory_management": None,
        },
    ],
}

EXAMPLES: dict[tuple[str, str], Example] = {
    # Sortillus v3
    ("POST", "/api/v3/products"): Example(
        bodies={
            "new_product": (
                "A new product (the id must not be taken: a second run answers 422)",
                {
                    "product": {
                        "id": 5001,
                        "name": "Linen Overshirt",
                        "brand": "Northwind",
                        "description": "Relaxed overshirt in washed linen",
                        "image": "https://cdn.example.com/5001.jpg",
                        "suggested_category_name": "Tops",
                        "gtin": "4006381333931",
                        "gtins": ["4006381333931", "0012345678905"],
                    }
                },
            )
        }
    ),
    ("GET", "/api/v3/products/{id}"): Example(path={"id": DEMO_RECOMMENDED_PRODUCT}),
    ("GET", "/api/platform/v1/products/{id}/category-suggestions"): Example(path={"id": DEMO_RECOMMENDED_PRODUCT}),
    ("PATCH", "/api/v3/products/{id}"): Example(
        path={"id": DEMO_PRODUCT},
        bodies={
            "categorize": ("Assign category Women (full external id L2_11)", {"product": {"category_id": "L2_11"}})
        },
    ),
    ("POST", "/api/v3/products/{id}/recommend"): Example(path={"id": DEMO_RECOMMENDED_PRODUCT_INTERNAL_ID}),
    ("POST", "/api/v3/shop/categories"): Example(
        bodies={
            "category": (
                "Create or update a category under Home (30)",
                {
                    "category": {
                        "external_id": 33,
                        "name": "Bedding",
                        "en_name": "Bedding",
                        "en_description": "Sheets, duvets and pillows",
                        "external_parent_id": 30,
                    }
                },
            )
        }
    ),
    # ShopiSync external v1
    ("GET", "/api/external/v1/products/{product_id}"): Example(path={"product_id": DEMO_PRICED_PRODUCT}),
    ("PUT", "/api/external/v1/products/{product_id}"): Example(
        path={"product_id": DEMO_PRICED_PRODUCT},
        bodies={
            "bounds": (
                "Price bounds and automatic repricing",
                {"minPrice": 19.99, "maxPrice": 39.99, "autoReprice": True},
            )
        },
    ),
    ("GET", "/api/external/v1/price-history/{product_id}"): Example(path={"product_id": DEMO_PRICED_PRODUCT}),
    ("POST", "/api/external/v1/webhooks/test"): Example(
        bodies={"ping": ("Any JSON object, echoed back", {"event": "ping", "amount": 19.99})}
    ),
    # Platform
    ("PUT", "/api/platform/v1/products"): Example(
        bodies={"product": ("One Shopify product with two variants", {"products": [LINEN_SHIRT]})}
    ),
    ("POST", "/api/platform/v1/orders"): Example(
        bodies={
            "order": (
                "One order of two units of product 1000's first variant",
                {
                    "orders": [
                        {
                            "id": 5550001,
                            "created_at": "2025-05-01T23:30:00-02:00",
                            "cancelled_at": None,
                            "line_items": [
                                {
                                    "product_id": DEMO_PRODUCT,
                                    "variant_id": DEMO_PRODUCT * 100 + 1,
                                    "quantity": 2,
                                    "price": "45.00",
                                    "total_discount": "5.00",
                                }
                            ],
                        }
                    ]
                },
            )
        }
    ),
    ("PUT", "/api/platform/v1/collections"): Example(
        bodies={
            "collection": (
                "A collection and its products, in order",
                {
                    "collections": [
                        {"id": 400000009, "title": "Gifts", "handle": "gifts", "product_ids": [1000, 1001, 1002]}
                    ]
                },
            )
        }
    ),
    ("POST", "/api/platform/v1/competitor-prices"): Example(
        bodies={
            "observation": (
                "A competitor's price for product 1001 (sent again: duplicate)",
                {
                    "observations": [
                        {
                            "product_id": DEMO_PRICED_PRODUCT,
                            "competitor": "Shop X",
                            "price": 27.49,
                            "in_stock": True,
                            "url": "https://shop-x.example.com/p/1001",
                            "observed_at": "2025-06-01T10:00:00Z",
                        }
                    ]
                },
            )
        }
    ),
    ("POST", "/api/platform/v1/keys"): Example(
        bodies={
            "write_key": (
                "A write key for a sync job, limited to two networks and 100 requests a minute",
                {
                    "name": "nightly sync",
                    "permission": "write",
                    "allowed_ips": ["127.0.0.1", "10.0.0.0/8"],
                    "rate_limit": 100,
                    "rate_limit_window": 60,
                },
            )
        }
    ),
    ("GET", "/api/platform/v1/keys/{key_id}/usage"): Example(path={"key_id": DEMO_READ_KEY_ID}),
    ("PUT", "/api/platform/v1/shopify/connection"): Example(
        bodies={
            "connect": (
                "Connect the demo shop's store with its (public, demo) webhook secret",
                {"shop_domain": "demo.myshopify.com", "webhook_secret": "shpss_demo_webhook_secret"},
            ),
            "rotate": (
                "Rotate the secret: the old one stays accepted until end-rotation",
                {
                    "shop_domain": "demo.myshopify.com",
                    "webhook_secret": "shpss_demo_webhook_secret",
                    "keep_previous_secret": True,
                },
            ),
        }
    ),
    ("POST", "/api/platform/v1/keys/{key_id}/rotate"): Example(
        path={"key_id": DEMO_SPARE_KEY_ID},
        bodies={"grace": ("Rotate the demo's spare key; the old one works for another hour", {"grace_seconds": 3600})},
    ),
    ("POST", "/api/platform/v1/keys/{key_id}/revoke"): Example(
        path={"key_id": DEMO_SPARE_KEY_ID},
        bodies={
            "revoke": ("Revoke the demo's spare key (revoking twice changes nothing)", {"reason": "no longer needed"})
        },
    ),
}


def add_examples(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook (after the default enum hook): put EXAMPLES into the document."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            example = EXAMPLES.get((method.upper(), path))
            if example is None:
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in example.path:
                    parameter["example"] = example.path[parameter["name"]]
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                if example.bodies:
                    media["examples"] = {
                        name: {"summary": summary, "value": body} for name, (summary, body) in example.bodies.items()
                    }
    return result
