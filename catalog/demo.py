"""Demo catalog for ``manage.py seed_demo``: a small, deterministic, realistic shop.

Categories with attributes and options, products in same-model colour groups
with size variants and GS1-valid barcodes (a few products share a barcode, so
duplicate clusters exist), and a year of orders with co-purchase patterns
(tops with bottoms, shoes with socks). Everything goes through the same
services as the API and is keyed by fixed ids, so running it again updates
rows instead of adding them.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from catalog import services, sync
from catalog.gtin import check_digit
from catalog.models import AttributeOption, Category, CategoryAttribute, CategorySource, Product, ProductState
from tenants.models import Tenant

# (external id, name, description, parent external id)
TAXONOMY = [
    (10, "Apparel", "Clothing for men and women", None),
    (11, "Tops", "T-shirts, shirts, sweaters and hoodies", 10),
    (12, "Bottoms", "Jeans, trousers, shorts and skirts", 10),
    (13, "Socks", "Socks and hosiery", 10),
    (20, "Footwear", "Shoes, boots and sandals", None),
    (21, "Sneakers", "Running shoes, trainers and sneakers", 20),
    (22, "Boots", "Leather boots and hiking boots", 20),
    (30, "Home", "Home and kitchen goods", None),
    (31, "Kitchen", "Cookware, pans, knives and kitchen tools", 30),
    (32, "Tableware", "Mugs, plates, bowls and glasses", 30),
]
LEAF_MODELS = {
    11: ["Classic Cotton Tee", "Oxford Button Shirt", "Merino Crew Sweater", "Zip Hoodie", "Linen Shirt"],
    12: ["Slim Fit Jeans", "Chino Trousers", "Cargo Shorts", "Pleated Skirt"],
    13: ["Ankle Socks", "Wool Hiking Socks", "Crew Socks"],
    21: ["Road Running Shoe", "Canvas Sneaker", "Trail Running Shoe"],
    22: ["Chelsea Boot", "Leather Hiking Boot"],
    31: ["Cast Iron Skillet", "Chef Knife", "Nonstick Frying Pan", "Stock Pot"],
    32: ["Stoneware Mug", "Dinner Plate Set", "Glass Tumbler"],
}
BRANDS = ["Northwind", "Fjord & Co", "Basecamp", "Urban Thread", "Hearth"]
COLOURS = ["Black", "White", "Navy", "Red", "Green", "Grey"]
SIZES = {11: ["S", "M", "L"], 12: ["30", "32", "34"], 13: ["S", "M", "L"], 21: ["40", "42", "44"], 22: ["40", "42"]}
PRICES = {11: 25, 12: 55, 13: 9, 21: 89, 22: 140, 31: 45, 32: 15}
# Leaf pairs bought together (the co-purchase patterns the recommendations should find).
PAIRS = [(11, 12), (21, 13), (31, 32), (22, 13)]
ATTRIBUTES = {
    11: [(1101, "Color", None, COLOURS), (1102, "Size", None, ["S", "M", "L"])],
    12: [(1201, "Color", None, COLOURS), (1202, "Waist", "in", ["30", "32", "34"])],
    21: [(2101, "Shoe size", "EU", ["40", "42", "44"])],
    31: [(3101, "Material", None, ["Cast iron", "Steel", "Aluminium"])],
}


def _gtin13(n: int) -> str:
    data = f"50{n:010d}"  # prefix 50: a globally unique (non-restricted) range
    return data + str(check_digit(data))


def _categories(tenant: Tenant) -> dict[int, Category]:
    for external_id, name, description, parent in TAXONOMY:
        services.category_upsert(
            tenant=tenant,
            external_id=external_id,
            name=name,
            en_name=name,
            en_description=description,
            external_parent_id=parent,
            parent_given=True,
        )
    cats = {c.external_id: c for c in Category.objects.for_tenant(tenant)}
    now = timezone.now()
    for leaf, attributes in ATTRIBUTES.items():
        for n, (attr_id, name, measurement, options) in enumerate(attributes):
            attr, _ = CategoryAttribute.objects.update_or_create(
                tenant=tenant,
                category=cats[leaf],
                external_id=attr_id,
                defaults={"name": name, "measurement": measurement, "description": f"Product {name.lower()}"},
                create_defaults={
                    "name": name,
                    "measurement": measurement,
                    "description": f"Product {name.lower()}",
                    "created_at": now - timedelta(days=30 - leaf % 10 - n),
                },
            )
            AttributeOption.objects.bulk_create(
                [
                    AttributeOption(
                        tenant=tenant,
                        attribute=attr,
                        external_id=attr_id * 100 + i,
                        name=value,
                        measurement=measurement or "free_text",
                    )
                    for i, value in enumerate(options, start=1)
                ],
                update_conflicts=True,
                unique_fields=["attribute", "external_id"],
                update_fields=["name", "measurement"],
            )
    return cats


def _products(count: int, rng: random.Random) -> tuple[list[dict], dict[int, int], dict[int, list[int]]]:
    """Shopify-shaped products; returns them, product -> leaf, and leaf -> products."""
    items, leaf_of, by_leaf = [], {}, {}
    leaves = list(LEAF_MODELS)
    base = timezone.now() - timedelta(days=400)
    n = 0
    while len(items) < count:
        leaf = leaves[n % len(leaves)]
        models = LEAF_MODELS[leaf]
        model = models[(n // len(leaves)) % len(models)]
        brand = BRANDS[(n // (len(leaves) * len(models))) % len(BRANDS)]
        # Apparel and footwear come in colour groups of one model; home goods are single products.
        colours = COLOURS[: 2 + n % 3] if leaf in SIZES else [""]
        for colour in colours:
            if len(items) >= count:
                break
            pid = 1000 + len(items)
            title = f"{brand} {model} {colour}".strip()
            price = Decimal(PRICES[leaf]) + Decimal(rng.randint(0, 20))
            sizes = SIZES.get(leaf, ["Default Title"])
            variants = []
            for s, size in enumerate(sizes):
                vid = pid * 10 + s
                variants.append(
                    {
                        "id": vid,
                        "title": f"{colour} / {size}" if colour else size,
                        "option1": colour or size,
                        "option2": size if colour else "",
                        "price": price,
                        "compare_at_price": price + 10 if pid % 4 == 0 else None,
                        "cost": (price * Decimal("0.45")).quantize(Decimal("0.01")),
                        "sku": f"SKU-{vid}",
                        "barcode": _gtin13(vid),
                        "inventory_quantity": rng.choice([0, 3, 8, 15, 40]),
                        "inventory_policy": "continue" if pid % 17 == 0 else "deny",
                        "inventory_management": None if pid % 23 == 0 else "shopify",
                        "created_at": base + timedelta(days=pid % 365),
                    }
                )
            options = [{"id": pid * 10 + 1, "name": "Color", "position": 1, "values": [colour]}] if colour else []
            position = len(options) + 1
            options.append({"id": pid * 10 + position, "name": "Size", "position": position, "values": sizes})
            items.append(
                {
                    "id": pid,
                    "title": title,
                    "body_html": f"<p>{model} by {brand}. {dict((t[0], t[2]) for t in TAXONOMY)[leaf]}.</p>",
                    "vendor": brand,
                    "product_type": dict((t[0], t[1]) for t in TAXONOMY)[leaf],
                    "handle": title.lower().replace(" ", "-").replace("&", "and"),
                    "status": "draft" if pid % 50 == 49 else "active",
                    "tags": f"{brand}, demo",
                    "created_at": base + timedelta(days=pid % 365),
                    "image": {"src": f"https://cdn.example.com/demo/{pid}.jpg"},
                    "options": options,
                    "variants": variants,
                }
            )
            leaf_of[pid] = leaf
            by_leaf.setdefault(leaf, []).append(pid)
        n += 1
    # A few duplicate listings: the same barcode under a second product (a marketplace copy).
    for k in range(0, len(items) - 1, 37):
        items[k + 1]["variants"][0]["barcode"] = items[k]["variants"][0]["barcode"]
    return items, leaf_of, by_leaf


def _orders(items: list[dict], by_leaf: dict[int, list[int]], rng: random.Random) -> list[dict]:
    variants = {p["id"]: p["variants"] for p in items}
    now = timezone.now()
    orders = []
    for k in range(len(items) * 3):
        lines = []
        if k % 3 == 0:  # a co-purchase pattern: one product of each leaf of a pair, chosen by a fixed pairing
            a_leaf, b_leaf = PAIRS[k // 3 % len(PAIRS)]
            a = by_leaf.get(a_leaf, [])
            b = by_leaf.get(b_leaf, [])
            if a and b:
                i = rng.randrange(len(a))
                lines = [a[i], b[i % len(b)]]
        if not lines:
            lines = rng.sample([p["id"] for p in items], k=min(len(items), rng.choice([1, 1, 2])))
        orders.append(
            {
                "id": 900_000 + k,
                "created_at": now - timedelta(days=rng.randrange(365), minutes=rng.randrange(1440)),
                "cancelled_at": None,
                "line_items": [
                    {
                        "product_id": pid,
                        "variant_id": (v := rng.choice(variants[pid]))["id"],
                        "quantity": rng.choice([1, 1, 1, 2]),
                        "price": v["price"],
                        "total_discount": Decimal("0.00"),
                    }
                    for pid in lines
                ],
            }
        )
    for order in orders[::40]:  # some cancellations, which the rollups leave out
        order["cancelled_at"] = order["created_at"] + timedelta(hours=2)
    return orders


def seed(*, tenant: Tenant, products: int, seed: int, stdout) -> None:
    """Create or refresh the demo catalog of ``tenant`` with about ``products`` products."""
    rng = random.Random(seed)
    cats = _categories(tenant)
    items, leaf_of, by_leaf = _products(max(products, 10), rng)
    for start in range(0, len(items), 1000):
        chunk = items[start : start + 1000]
        sync.products_sync(tenant=tenant, items=list(enumerate(chunk)))
    with transaction.atomic():
        now = timezone.now()
        rows = list(Product.objects.for_tenant(tenant).filter(external_id__in=list(leaf_of)))
        for product in rows:
            product.category_id = cats[leaf_of[product.external_id]].pk
            product.category_score = None
            product.category_source = CategorySource.MERCHANT
            if product.state == ProductState.NEW:
                product.state = ProductState.READY
                product.state_changed_at = now
            product.updated_at = now
        Product.objects.bulk_update(
            rows, ["category", "category_score", "category_source", "state", "state_changed_at", "updated_at"]
        )
    orders = _orders(items, by_leaf, rng)
    for start in range(0, len(orders), 1000):
        sync.orders_sync(tenant=tenant, items=list(enumerate(orders[start : start + 1000])))
    stdout.write(f"Catalog: {len(cats)} categories, {len(items)} products, {len(orders)} orders.")
