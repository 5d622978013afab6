"""A realistic demo shop of any size (100 to 1,000,000 products), deterministic for a seed.

Used by ``manage.py seed_demo`` (``make run`` seeds 200 products) and by the benchmarks. Every table is
written by the app that owns it, through the same services the API uses: the taxonomy through
catalog's category service, products (options, variants, GTINs, duplicate clusters) through the
platform product sync, orders (lines, daily sales rollups) through the platform order sync,
collections through merchandising's collection sync, competitors and observations through pricing's
competitor-price feed. The syncs are set-based, so this takes minutes at 100,000 products.

Everything is keyed by fixed external ids (products from 1000, variants product*100+n, orders from
50,000,000) and unique keys, so a re-run with the same size and seed writes nothing new. Dates are
relative to today (UTC midnight): orders cover the 365 days before it, observations the 12 weeks.

The docs' curl examples and the OpenAPI examples (config/openapi_examples.py) address this shop: product
1000 with its Color option 10001, product 1001 (a marketplace copy of 1000), categories 10, 11 (L2_11)
and 30, the four collections 400000001-400000004.
"""

from __future__ import annotations

import bisect
import itertools
import random
import sys
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog import sync as catalog_sync
from catalog.gtin import check_digit
from catalog.models import (
    AttributeOption,
    Category,
    CategoryAttribute,
    DailySales,
    DuplicateCluster,
    Order,
    OrderLine,
    Product,
    ProductGtin,
    ProductOption,
    Variant,
)
from core.bulk import analyze
from demo import words
from merchandising import services as merchandising_services
from merchandising.models import Collection, CollectionProduct, Recipe
from pricing import services as pricing_services
from pricing.models import Competitor, Observation, PricingSettings
from pricing.repricing import Strategy
from pricing.services import ObservationIn
from tenants.models import Tenant

FIRST_PRODUCT = 1000  # docs examples address products 1000 and 1001, at any size
FIRST_ORDER = 50_000_000
LINES_PER_PRODUCT = 10  # 100,000 products -> 1,000,000 order lines
CHUNK = 5000  # products per transaction
SYNC_BATCH = 1000  # products per product sync call (the platform API's maximum)
ORDER_CHUNK = 100_000  # orders planned at a time
ORDER_SYNC_BATCH = 5000  # orders per order sync call
OBSERVATION_BATCH = 5000  # observations per competitor-price feed call
CENT = Decimal("0.01")
DUPLICATE_SHARE = 0.02  # listings that are a second copy of an item (same GTINs, same colour)
UNCATEGORISED_SHARE = 0.03  # left for category suggestion (it finds their categories)
OUTSIDE_SHARE = 0.01  # products outside the taxonomy (gift cards): no category, and suggestion finds none
PRICED_SHARE = 0.2  # products watched against competitors
OBSERVATION_WEEKS = 12
PAIR_SHARE = 0.45  # baskets whose first product brings its co-purchase partner
ZIPF_S = 1.07
COLLECTION_MEMBERS_MAX = 20_000
# The fixed collections (docs examples use these ids): id, title, handle, recipe.
FIXED_COLLECTIONS = [
    (400000001, "All products", "all", "Best sellers (30 days)"),
    (400000002, "New arrivals", "new-arrivals", "New arrivals"),
    (400000003, "Trending now", "trending", "Trending (7 days)"),
    (400000004, "Sale", "sale", "Clearance"),
]
LEAF_COLLECTION_BASE = 400000100


class Progress:
    """A one-line progress bar on stderr: label, count, percentage, rate."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.started = self.last = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.2 or self.done >= self.total):
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = self.done / max(now - self.started, 1e-6)
        self.stream.write(
            f"\r{self.label:<14} [{bar:<30}] {self.done:>9,}/{self.total:,} {share:>4.0%} {rate:>9,.0f}/s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


@dataclass
class Spec:
    """One product to write: everything but database ids."""

    index: int
    leaf: words.Leaf
    brand: str
    model: str
    colour: str | None
    group: int  # same-model colour group
    price: Decimal
    sizes: list[str]
    lengths: list[str]
    material: str
    duplicate_of: int | None = None  # index of the product whose item this listing duplicates
    features: list[str] = field(default_factory=list)

    @property
    def external_id(self) -> int:
        return FIRST_PRODUCT + self.index


@dataclass
class Report:
    categories: int = 0
    products: int = 0
    variants: int = 0
    orders: int = 0
    order_lines: int = 0
    daily_sales: int = 0
    collections: int = 0
    competitors: int = 0
    observations: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in vars(self).items())


def gtin13(n: int) -> str:
    data = f"51{n:010d}"  # prefix 51: a globally unique (non-restricted) GS1 range
    return data + str(check_digit(data))


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


# ---- plan: pure, deterministic ------------------------------------------------------------------


def _brands(rng: random.Random) -> list[str]:
    names = [f"{h}{t}" for h, t in itertools.product(words.BRAND_HEADS, words.BRAND_TAILS)]
    rng.shuffle(names)
    return names[:120]


def product_specs(count: int, rng: random.Random) -> Iterator[Spec]:
    """The shop's products in id order: same-model colour groups, a few duplicate listings."""
    brands = _brands(rng)
    brand_cum = list(itertools.accumulate(1 / (r + 1) for r in range(len(brands))))  # a few big brands
    leaves = words.LEAVES
    index = group = 0
    while index < count:
        # the first product is a coloured one followed by a marketplace copy of it: the docs' examples
        # (product 1000's Color option 10001, product 1001 a duplicate of 1000) hold at every size and seed
        leaf = rng.choice([leaf for leaf in leaves if leaf.coloured] if index == 0 else leaves)
        if index and rng.random() < OUTSIDE_SHARE:
            leaf = words.GIFT_CARDS
        brand = rng.choices(brands, cum_weights=brand_cum)[0]
        model = f"{rng.choice(words.ADJECTIVES)} {rng.choice(leaf.nouns)}"
        price = Decimal(max(3, round(leaf.price * rng.uniform(0.6, 1.8)))) - (CENT if rng.random() < 0.6 else 0)
        sizes: list[str] = []
        lengths: list[str] = []
        if leaf.sizes:
            system = words.SIZE_SYSTEMS[leaf.sizes]
            k = rng.randint(min(3, len(system.values)), len(system.values))
            start = rng.randint(0, len(system.values) - k)
            sizes = system.values[start : start + k]
            if system.second and rng.random() < 0.5:
                lengths = system.second[1][: rng.randint(2, 3)]
                sizes = sizes[: 20 // len(lengths)]  # at most 20 variants
        colours = rng.sample(words.COLOURS, rng.choice([1, 1, 2, 2, 3, 4])) if leaf.coloured else [None]
        features = rng.sample(words.FEATURES, 2)
        material = rng.choice(leaf.materials)
        for colour in colours:
            if index >= count:
                break
            spec = Spec(index, leaf, brand, model, colour, group, price, sizes, lengths, material, None, features)
            yield spec
            index += 1
            if index < count and (spec.index == 0 or rng.random() < DUPLICATE_SHARE):
                # a marketplace copy of the same item: same title, colour and GTINs under another id
                yield Spec(
                    index, leaf, brand, model, colour, group, price, sizes, lengths, material, spec.index, features
                )
                index += 1
        group += 1


def _variant_options(spec: Spec) -> list[tuple[str, ...]]:
    """Option values per variant, in position order: (colour?, size?, length?)."""
    dims: list[list[str]] = []
    if spec.colour:
        dims.append([spec.colour])
    if spec.sizes:
        dims.append(spec.sizes)
    if spec.lengths:
        dims.append(spec.lengths)
    if not dims:
        return [("Default Title",)]
    return list(itertools.product(*dims))[:20]


def _option_names(spec: Spec) -> list[tuple[str, list[str]]]:
    names: list[tuple[str, list[str]]] = []
    if spec.colour:
        names.append(("Color", [spec.colour]))
    if spec.sizes:
        system = words.SIZE_SYSTEMS[spec.leaf.sizes]
        names.append((system.option, spec.sizes))
        if spec.lengths:
            names.append((system.second[0], spec.lengths))
    return names


# ---- writes -------------------------------------------------------------------------------------


def _taxonomy(tenant: Tenant, now: datetime) -> dict[int, int]:
    """Upsert the category tree (3 levels) and each leaf's attributes; returns leaf external id -> pk."""
    nodes = [(b[0], b[1], b[2], b[3]) for b in words.BRANCHES]
    nodes += [(leaf.external_id, leaf.name, leaf.description, leaf.parent) for leaf in words.LEAVES]
    existing = dict(Category.objects.for_tenant(tenant).values_list("external_id", "pk"))
    for external_id, name, description, parent in nodes:
        if external_id not in existing:
            catalog_services.category_upsert(
                tenant=tenant,
                external_id=external_id,
                name=name,
                en_name=name,
                en_description=description,
                external_parent_id=parent,
                parent_given=True,
            )
    pks = dict(Category.objects.for_tenant(tenant).values_list("external_id", "pk"))
    attributes = []
    for leaf in words.LEAVES:
        aid = leaf.external_id * 100
        if leaf.coloured:
            attributes.append((leaf, aid + 1, "Color", None, words.COLOURS))
        if leaf.sizes:
            system = words.SIZE_SYSTEMS[leaf.sizes]
            attributes.append((leaf, aid + 2, system.option, system.measurement, system.values))
        attributes.append((leaf, aid + 3, "Material", None, leaf.materials))
    CategoryAttribute.objects.bulk_create(
        [
            CategoryAttribute(
                tenant=tenant,
                category_id=pks[leaf.external_id],
                external_id=aid,
                name=name,
                measurement=measurement,
                description=f"{leaf.name}: {name.lower()}",
                created_at=now,
            )
            for leaf, aid, name, measurement, _ in attributes
        ],
        ignore_conflicts=True,
    )
    attr_pks = {
        (c, e): pk
        for c, e, pk in CategoryAttribute.objects.for_tenant(tenant).values_list("category_id", "external_id", "pk")
    }
    AttributeOption.objects.bulk_create(
        [
            AttributeOption(
                tenant=tenant,
                attribute_id=attr_pks[(pks[leaf.external_id], aid)],
                external_id=aid * 100 + n,
                name=value,
                measurement=measurement or "free_text",
            )
            for leaf, aid, _, measurement, values in attributes
            for n, value in enumerate(values, start=1)
        ],
        ignore_conflicts=True,
    )
    return {leaf.external_id: pks[leaf.external_id] for leaf in words.LEAVES}


def _shopify_products(specs: list[Spec], rng: random.Random, now: datetime) -> tuple[list[dict], set[int]]:
    """The products as a Shopify sync sends them (DESIGN.md "Platform surface"), in id order, and the ids of
    those the shop categorised (the others are left for category suggestion)."""
    items, categorised = [], set()
    for spec in specs:
        pid = spec.external_id
        leaf = spec.leaf
        title = f"{spec.brand} {spec.model}" + (f" - {spec.colour}" if spec.colour else "")
        if rng.random() >= UNCATEGORISED_SHARE:
            categorised.add(pid)
        status = rng.choices(["active", "draft", "archived"], weights=[96, 3, 1])[0]
        age = rng.randint(0, 60) if rng.random() < 0.15 else rng.randint(61, 900)
        created = now - timedelta(days=age, seconds=rng.randrange(86400))
        owner = FIRST_PRODUCT + (spec.duplicate_of if spec.duplicate_of is not None else spec.index)
        description = (
            f"<p>The {spec.model.lower()} by {spec.brand}, in {spec.material}"
            + (f", colour {spec.colour.lower()}" if spec.colour else "")
            + f". {leaf.description}. {' '.join(spec.features)}</p>"
        )
        if spec.duplicate_of is not None:
            description = f"<p>{spec.brand} {spec.model}. Marketplace listing.</p>"
        compare = rng.random() < 0.2
        sold_out = rng.random() < 0.04
        cost_share = Decimal(str(round(rng.uniform(0.3, 0.6), 2)))
        variants = []
        for n, vals in enumerate(_variant_options(spec), start=1):
            vid = pid * 100 + n
            price = spec.price
            if leaf.sizes in ("cookware", "tent", "pack", "weights", "set") and spec.sizes:
                price = _money(spec.price * (1 + Decimal("0.2") * spec.sizes.index(vals[-1])))
            quantity = 0 if sold_out or rng.random() < 0.15 else rng.choice([1, 2, 3, 5, 8, 12, 20, 35, 60, 120])
            option1, option2, option3 = (*vals, "", "")[:3]
            variants.append(
                {
                    "id": vid,
                    "title": " / ".join(vals),
                    "option1": option1,
                    "option2": option2,
                    "option3": option3,
                    "price": price,
                    "compare_at_price": (
                        _money(price * Decimal(rng.choice(["1.2", "1.25", "1.3", "1.5"]))) if compare else None
                    ),
                    "cost": _money(price * cost_share),
                    "sku": f"{leaf.name[:3].upper()}-{vid}",
                    "barcode": gtin13(owner * 100 + n),  # a duplicate listing carries its original's GTINs
                    "inventory_quantity": quantity,
                    "inventory_management": "shopify" if rng.random() > 0.05 else None,
                    "inventory_policy": "continue" if rng.random() < 0.05 else "deny",
                    "created_at": created,
                }
            )
        items.append(
            {
                "id": pid,
                "title": title,
                "body_html": description,
                "vendor": spec.brand,
                "product_type": leaf.name,
                "handle": f"{title.lower().replace(' ', '-').replace('&', 'and')}-{pid}",
                "status": status,
                "tags": f"{spec.brand}, {leaf.name}, {spec.material}",
                "created_at": created,
                "image": {"src": f"https://cdn.example.com/demo/{owner}.jpg"},
                "options": [
                    {"id": pid * 10 + position, "name": name, "position": position, "values": values}
                    for position, (name, values) in enumerate(_option_names(spec), start=1)
                ],
                "variants": variants,
            }
        )
    return items, categorised


def _write_products(
    tenant: Tenant, count: int, rng: random.Random, leaf_pks: dict[int, int], now: datetime, show: bool
) -> list[Spec]:
    """Sync the products through the platform's product sync (catalog.sync.products_sync), with the shop's
    categories set in the same transaction; returns the specs. Products already stored are not sent again."""
    bar = Progress("products", count, enabled=show)
    specs_all: list[Spec] = []
    # the plan has a random stream of its own: rows draw from ``rng`` chunk by chunk, and sharing one
    # stream would make the shop depend on the chunk size
    stream = product_specs(count, random.Random(rng.random()))
    while chunk := list(itertools.islice(stream, CHUNK)):
        specs_all.extend(chunk)
        items, categorised = _shopify_products(chunk, rng, now)
        stored = set(
            Product.objects.for_tenant(tenant)
            .filter(external_id__gte=chunk[0].external_id, external_id__lte=chunk[-1].external_id)
            .values_list("external_id", flat=True)
        )
        new = [item for item in items if item["id"] not in stored]
        with transaction.atomic():
            for start in range(0, len(new), SYNC_BATCH):
                batch = list(enumerate(new[start : start + SYNC_BATCH]))
                result = catalog_sync.products_sync(tenant=tenant, items=batch)
                if result["rejected"]:
                    raise RuntimeError(f"the product sync refused generated products: {result['rejected'][:3]}")
            _categorize(tenant, chunk, categorised, leaf_pks)
        bar.advance(len(chunk))
    bar.close()
    return specs_all


def _categorize(tenant: Tenant, specs: list[Spec], categorised: set[int], leaf_pks: dict[int, int]) -> None:
    """The shop's own categories on the products it categorised (catalog.services.products_categorize)."""
    pks = dict(
        Product.objects.for_tenant(tenant)
        .filter(external_id__gte=specs[0].external_id, external_id__lte=specs[-1].external_id)
        .values_list("external_id", "pk")
    )
    wanted = [
        (pks[spec.external_id], leaf_pks[spec.leaf.external_id])
        for spec in specs
        if spec.external_id in categorised and spec.external_id in pks and spec.leaf.external_id in leaf_pks
    ]
    for start in range(0, len(wanted), CHUNK):
        catalog_services.products_categorize(tenant=tenant, categories=dict(wanted[start : start + CHUNK]))


@dataclass
class Catalog:
    """The written catalog in compact arrays (product index = external id - FIRST_PRODUCT)."""

    product_pk: array
    active: bytearray
    var_start: array  # product index -> first variant row
    var_count: array
    var_pk: array
    var_ext: array
    var_cents: array
    var_sold_out: bytearray


def _load_catalog(tenant: Tenant, count: int) -> Catalog:
    cat = Catalog(array("q", [0] * count), bytearray(count), array("l", [0] * count), array("l", [0] * count),
                  array("q"), array("q"), array("q"), bytearray())  # fmt: skip
    for ext, pk, status in (
        Product.objects.for_tenant(tenant)
        .filter(external_id__gte=FIRST_PRODUCT, external_id__lt=FIRST_PRODUCT + count)
        .values_list("external_id", "pk", "status")
        .iterator(chunk_size=20_000)
    ):
        cat.product_pk[ext - FIRST_PRODUCT] = pk
        cat.active[ext - FIRST_PRODUCT] = status == "active"
    last = -1
    for ext, vpk, vext, price, quantity in (
        Variant.objects.for_tenant(tenant)
        .filter(product__external_id__gte=FIRST_PRODUCT, product__external_id__lt=FIRST_PRODUCT + count)
        .order_by("product__external_id", "position", "id")
        .values_list("product__external_id", "pk", "external_id", "price", "inventory_quantity")
        .iterator(chunk_size=20_000)
    ):
        i = ext - FIRST_PRODUCT
        if i != last:
            cat.var_start[i] = len(cat.var_pk)
            last = i
        cat.var_count[i] += 1
        cat.var_pk.append(vpk)
        cat.var_ext.append(vext)
        cat.var_cents.append(int(price * 100))
        cat.var_sold_out.append(quantity <= 0)
    return cat


def _partners(specs: list[Spec]) -> list[int]:
    """Product index -> its fixed co-purchase partner (index), or -1."""
    by_leaf: dict[int, list[int]] = {}
    for spec in specs:
        if spec.duplicate_of is None:
            by_leaf.setdefault(spec.leaf.external_id, []).append(spec.index)
    pair_of = dict(words.PAIRS)
    partner = [-1] * len(specs)
    for spec in specs:
        other = by_leaf.get(pair_of.get(spec.leaf.external_id, 0))
        if other:
            # a fixed partner per product (multiplicative hash), so the pair itself recurs across baskets
            partner[spec.index] = other[(spec.index * 2654435761 >> 7) % len(other)]
    return partner


def _day_weights(today: datetime) -> list[float]:
    """Weight of each of the 365 days before today: weekends, spring, Black Friday to Christmas."""
    weights = []
    for d in range(1, 366):
        day = (today - timedelta(days=d)).date()
        w = 1.0 + (0.35 if day.weekday() >= 5 else 0)
        if day.month in (3, 4, 5):
            w *= 1.15
        if (day.month == 11 and day.day >= 20) or (day.month == 12 and day.day <= 24):
            w *= 2.2
        if day.month == 1 and day.day <= 10:
            w *= 1.4  # January sales
        weights.append(w)
    return weights


def _write_orders(
    tenant: Tenant, specs: list[Spec], cat: Catalog, lines_target: int, rng: random.Random, today: datetime, show: bool
) -> tuple[int, int]:
    """Orders over the 365 days before ``today``; returns (orders written, lines written)."""
    count = len(specs)
    order = list(range(count))
    rng.shuffle(order)  # popularity rank -> product index
    ranked = [i for i in order if cat.active[i] and cat.var_count[i]]
    pop_cum = list(itertools.accumulate(1 / (r + 1) ** ZIPF_S for r in range(len(ranked))))
    day_cum = list(itertools.accumulate(_day_weights(today)))
    partner = _partners(specs)
    total_pop, total_day = pop_cum[-1], day_cum[-1]
    bar = Progress("order lines", lines_target, enabled=show)
    written_orders = written_lines = 0
    k = lines = 0

    def popular() -> int:
        return ranked[bisect.bisect_right(pop_cum, rng.random() * total_pop)]

    def line(i: int) -> dict:
        n = cat.var_count[i]
        j = cat.var_start[i] + min(n - 1, int(rng.triangular(0, n, n / 2)))  # middle sizes sell most
        quantity = rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
        cents = cat.var_cents[j]
        discount = (cents * quantity // 10) if rng.random() < 0.1 else 0
        return {
            "product_id": FIRST_PRODUCT + i,
            "variant_id": cat.var_ext[j],
            "quantity": quantity,
            "price": Decimal(cents) / 100,
            "total_discount": Decimal(discount) / 100,
        }

    while lines < lines_target:
        orders = []
        for _ in range(ORDER_CHUNK):
            if lines >= lines_target:
                break
            first = popular()
            basket = [first]
            if partner[first] >= 0 and cat.var_count[partner[first]] and rng.random() < PAIR_SHARE:
                basket.append(partner[first])
            r = rng.random()
            extra = 2 if r < 0.08 else 1 if r < 0.3 else 0
            for _ in range(extra):
                other = popular()
                if other not in basket:
                    basket.append(other)
            day = bisect.bisect_right(day_cum, rng.random() * total_day) + 1
            created = today - timedelta(days=day) + timedelta(seconds=rng.randrange(86400))
            cancelled = created + timedelta(hours=3) if rng.random() < 0.02 else None
            line_items = [line(i) for i in basket]
            orders.append(
                {"id": FIRST_ORDER + k, "created_at": created, "cancelled_at": cancelled, "line_items": line_items}
            )
            k += 1
            lines += len(basket)
        # orders stored by an earlier run are not sent again (the sync would find them unchanged)
        stored = set(
            Order.objects.for_tenant(tenant)
            .filter(external_id__gte=orders[0]["id"], external_id__lte=orders[-1]["id"])
            .values_list("external_id", flat=True)
        )
        # sent oldest first, as a shop's order history comes: each call's daily-sales rollup then rebuilds a few
        # days instead of the whole year again (the same orders and ids, only the order of the calls changes)
        new = sorted((order for order in orders if order["id"] not in stored), key=lambda order: order["created_at"])
        for start in range(0, len(new), ORDER_SYNC_BATCH):
            batch = new[start : start + ORDER_SYNC_BATCH]
            result = catalog_sync.orders_sync(tenant=tenant, items=list(enumerate(batch)))
            if result["rejected"]:
                raise RuntimeError(f"the order sync refused generated orders: {result['rejected'][:3]}")
            written_orders += len(result["created"])
            written_lines += sum(len(order["line_items"]) for order in batch)
        bar.advance(sum(len(order["line_items"]) for order in orders))
    bar.close()
    return written_orders, written_lines


def _collections(tenant: Tenant, specs: list[Spec], cat: Catalog, rng: random.Random) -> int:
    """The small demo's four collections plus one per leaf category (automatic style), recipes assigned."""
    merchandising_services.recipes_ensure_defaults(tenant=tenant)
    recipes = {r.name: r for r in Recipe.objects.for_tenant(tenant).order_by("name")}
    ids = [FIRST_PRODUCT + s.index for s in specs]
    newest = sorted(specs, key=lambda s: -s.index)  # ids grow with time in a shop
    on_sale = [FIRST_PRODUCT + s.index for s in specs if s.index % 5 == 0]
    members = {
        400000001: ids[:5000],
        400000002: [FIRST_PRODUCT + s.index for s in newest[: max(1, len(ids) // 5)]][:COLLECTION_MEMBERS_MAX],
        400000003: sorted(rng.sample(ids, max(1, len(ids) // 4)))[:COLLECTION_MEMBERS_MAX],
        400000004: on_sale[:COLLECTION_MEMBERS_MAX],
    }
    items = [
        {"id": cid, "title": title, "handle": handle, "sort_order": "manual", "product_ids": members[cid]}
        for cid, title, handle, _ in FIXED_COLLECTIONS
    ]
    assign = {cid: recipes.get(name) for cid, _, _, name in FIXED_COLLECTIONS}
    names = list(recipes)
    for n, leaf in enumerate(words.LEAVES):
        cid = LEAF_COLLECTION_BASE + n
        in_leaf = [FIRST_PRODUCT + s.index for s in specs if s.leaf is leaf][:COLLECTION_MEMBERS_MAX]
        if in_leaf:
            handle = leaf.name.lower().replace("'", "").replace(" ", "-").replace("&", "and")
            items.append(
                {"id": cid, "title": leaf.name, "handle": handle, "sort_order": "best-selling", "product_ids": in_leaf}
            )
            assign[cid] = recipes[names[n % len(names)]]
    merchandising_services.collections_sync(tenant=tenant, items=items)
    for cid, recipe in assign.items():
        Collection.objects.for_tenant(tenant).filter(external_id=cid).update(
            recipe=recipe, revert_sorting="manual", enabled=cid == 400000001 or cid >= LEAF_COLLECTION_BASE
        )
    # one product with option sorting on (its sizes), so the product actions have something to show
    option = (
        ProductOption.objects.for_tenant(tenant)
        .filter(name="Size", product__external_id__gte=FIRST_PRODUCT, external_id__isnull=False)
        .order_by("product__external_id")
        .select_related("product")
        .first()
    )
    if option is not None:
        merchandising_services.product_enable(
            tenant=tenant,
            product_id=option.product.external_id,
            options=[{"option_id": option.external_id, "option_name": option.name, "sort_type": "common_sizes"}],
        )
    return len(items)


def _pricing(
    tenant: Tenant, specs: list[Spec], cat: Catalog, rng: random.Random, today: datetime, show: bool
) -> tuple[int, int]:
    """Pricing settings, 2-4 competitors and weekly observations for a share of the products.

    The observations go through the platform's competitor-price feed (pricing.services.observations_ingest),
    which creates the competitors and keeps their current prices; returns (competitors, observations) new.
    """
    # product 1001 always: the docs' and the OpenAPI examples' priced product
    chosen = sorted(
        set(rng.sample(range(len(specs)), max(1, int(len(specs) * PRICED_SHARE)))) | {min(1, len(specs) - 1)}
    )
    chosen = [i for i in chosen if cat.var_count[i]]
    strategies = [Strategy.MATCH_LOWEST, Strategy.BEAT_LOWEST, Strategy.STAY_ABOVE_COST]
    bar = Progress("competitors", len(chosen), enabled=show)
    competitors_before = Competitor.objects.for_tenant(tenant).count()
    observations = 0
    for start in range(0, len(chosen), CHUNK):
        part = chosen[start : start + CHUNK]
        settings, observed = [], []
        for i in part:
            base = Decimal(cat.var_cents[cat.var_start[i]]) / 100
            strategy = strategies[i % 3]
            settings.append(
                PricingSettings(
                    tenant=tenant,
                    product_id=cat.product_pk[i],
                    min_price=_money(base * Decimal("0.8")),
                    max_price=_money(base * Decimal("1.3")),
                    auto_reprice=i % 2 == 0,
                    strategy=strategy,
                    beat_amount=Decimal("0.50") if strategy == Strategy.BEAT_LOWEST else None,
                    min_margin_percent=Decimal(15) if strategy == Strategy.STAY_ABOVE_COST else Decimal(0),
                )
            )
            for name in rng.sample(words.COMPETITORS, rng.randint(2, 4)):
                level = rng.uniform(0.85, 1.15)
                hour = rng.randint(0, 23)
                url = f"https://www.{name.lower().replace(' ', '')}.example/p/{FIRST_PRODUCT + i}"
                for week in range(OBSERVATION_WEEKS, 0, -1):
                    price = max(CENT, _money(base * Decimal(str(round(level + rng.uniform(-0.04, 0.04), 4)))))
                    # weekly, the last one yesterday: fresh enough for repricing to act on
                    at = today - timedelta(days=7 * week - 6) + timedelta(hours=hour)
                    observed.append(
                        ObservationIn(
                            index=len(observed),
                            product_id=FIRST_PRODUCT + i,
                            competitor=name,
                            url=url,
                            price=price,
                            in_stock=rng.random() > 0.1,
                            observed_at=at,
                        )
                    )
        # the shop's repricing settings (what ShopiSync's PUT sets, plus a strategy), then the feed
        PricingSettings.objects.bulk_create(settings, ignore_conflicts=True)
        for at in range(0, len(observed), OBSERVATION_BATCH):
            results = pricing_services.observations_ingest(tenant=tenant, items=observed[at : at + OBSERVATION_BATCH])
            observations += sum(r["status"] == "created" for r in results.values())
        bar.advance(len(part))
    bar.close()
    return Competitor.objects.for_tenant(tenant).count() - competitors_before, observations


def generate(
    *, tenant: Tenant, products: int, seed: int, lines: int | None = None, stdout: TextIO, progress: bool = True
) -> Report:
    """Create (or complete) the demo shop of ``tenant`` with ``products`` products; idempotent."""
    rng = random.Random(seed)
    now = timezone.now()
    today = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    report = Report()
    # The taxonomy first (its writes queue one category-suggestion refresh each: of no products yet), then each
    # chunk of products synced and given the shop's categories in one transaction, so the suggestions the
    # sync queues (run after the commit) rank only the few products left without a category.
    leaf_pks = _taxonomy(tenant, now)
    specs = _write_products(tenant, products, rng, leaf_pks, now, progress)
    report.categories = len(words.BRANCHES) + len(words.LEAVES)
    cat = _load_catalog(tenant, products)
    report.products = sum(1 for pk in cat.product_pk if pk)
    report.variants = len(cat.var_pk)
    # Each stage has its own random stream, so a stage's data does not depend on the sizes of earlier ones.
    sales_before = DailySales.objects.for_tenant(tenant).count()
    report.orders, report.order_lines = _write_orders(
        tenant, specs, cat, lines if lines is not None else products * LINES_PER_PRODUCT,
        random.Random(seed * 7 + 1), today, progress,
    )  # fmt: skip
    report.daily_sales = DailySales.objects.for_tenant(tenant).count() - sales_before  # the order sync's rollups
    report.collections = _collections(tenant, specs, cat, random.Random(seed * 7 + 2))
    report.competitors, report.observations = _pricing(tenant, specs, cat, random.Random(seed * 7 + 3), today, progress)
    _analyze()
    stdout.write(f"Demo shop generated (written now): {report}\n")
    return report


ANALYZED = [Product, ProductOption, Variant, ProductGtin, Order, OrderLine, DailySales, Competitor, Observation,
            PricingSettings, DuplicateCluster, CollectionProduct]  # fmt: skip


def _analyze() -> None:
    """Refresh the planner's statistics after the bulk load (PostgreSQL).

    Autovacuum gets to it only later: until then the planner takes the tenant's
    100,000 products for a few dozen, and e.g. Sortillus' product list sorts the
    whole tenant instead of reading the (tenant, updated_at) index: 1 s instead of 2 ms.
    """
    analyze(ANALYZED)
