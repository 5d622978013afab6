"""Demo data for the merchandising app: collections over the demo shop's existing products.

Runs after catalog's demo (config seed_demo). Idempotent: collections are upserted by
their fixed ids, settings are set to the same values again. With no products it creates
no collections.
"""

from __future__ import annotations

import random

from catalog.models import Product, ProductOption
from merchandising import services
from merchandising.models import Collection, Recipe
from tenants.models import Tenant

# (external id, title, handle, recipe name, revert order, enabled); ids are fixed so docs examples work.
DEMO_COLLECTIONS = [
    (400000001, "All products", "all", "Best sellers (30 days)", "manual", True),
    (400000002, "New arrivals", "new-arrivals", "New arrivals", "created-desc", False),
    (400000003, "Trending now", "trending", "Trending (7 days)", "best-selling", False),
    (400000004, "Sale", "sale", "Clearance", "price-asc", False),
]


def seed(*, tenant: Tenant, products: int, seed: int, stdout) -> None:
    services.recipes_ensure_defaults(tenant=tenant)
    product_ids = list(Product.objects.for_tenant(tenant).order_by("external_id").values_list("external_id", flat=True))
    if not product_ids:
        stdout.write("merchandising: no products, no demo collections")
        return
    rng = random.Random(seed)
    newest = list(
        Product.objects.for_tenant(tenant).order_by("-created_at", "-external_id").values_list("external_id", flat=True)
    )
    members = {
        400000001: product_ids[:5000],
        400000002: newest[: max(1, len(newest) // 5)],
        400000003: sorted(rng.sample(product_ids, max(1, len(product_ids) // 4))),
        400000004: sorted(rng.sample(product_ids, max(1, len(product_ids) // 6))),
    }
    items = [
        {"id": cid, "title": title, "handle": handle, "sort_order": "manual", "product_ids": members[cid]}
        for cid, title, handle, *_ in DEMO_COLLECTIONS
    ]
    services.collections_sync(tenant=tenant, items=items)
    recipes = {r.name: r for r in Recipe.objects.for_tenant(tenant)}
    for cid, _title, _handle, recipe_name, revert, enabled in DEMO_COLLECTIONS:
        Collection.objects.for_tenant(tenant).filter(external_id=cid).update(
            recipe=recipes.get(recipe_name), revert_sorting=revert, enabled=enabled
        )
    # one product with option sorting configured, so product actions have something to show
    option = (
        ProductOption.objects.for_tenant(tenant)
        .filter(external_id__isnull=False, name__iexact="size")
        .order_by("product__external_id")
        .first()
        or ProductOption.objects.for_tenant(tenant)
        .filter(external_id__isnull=False)
        .order_by("product__external_id", "position")
        .first()
    )
    if option is not None:
        sort_type = "common_sizes" if option.name.lower() == "size" else "sales"
        services.product_enable(
            tenant=tenant,
            product_id=option.product.external_id,
            options=[{"option_id": option.external_id, "option_name": option.name, "sort_type": sort_type}],
        )
    stdout.write(f"merchandising: {len(items)} demo collections over {len(product_ids)} products")
