"""A realistic demo shop of any size (100 to 1,000,000 products), deterministic for a seed.

Used by ``manage.py seed_demo`` above the small per-app demos' size, and by the
benchmarks. Categories and collections go through the apps' services (they are
few); the big tables (products, options, variants, GTINs, orders, order lines,
daily sales, competitors, observations) are written in bulk (PostgreSQL COPY,
see bulk.py) because the per-item sync services validate and diff item by item,
which is what an API needs and far too slow for a million rows.

Everything is keyed by fixed external ids (products from 1000, variants
product*100+n, orders from 50,000,000) and unique keys, so a re-run with the
same size and seed writes nothing new. Dates are relative to today (UTC
midnight): orders cover the 365 days before it, observations the 12 weeks.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TextIO

from django.db import connection, transaction
from django.utils import timezone

from catalog import services as catalog_services
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
from config.demo import words
from config.demo.bulk import Progress, insert
from merchandising import services as merchandising_services
from merchandising.models import Collection, CollectionProduct, Recipe
from pricing.models import Competitor, Observation, PricingSettings
from tenants.models import Tenant

FIRST_PRODUCT = 1000  # the small demo's first id too: docs examples address an existing product at any size
FIRST_ORDER = 50_000_000
LINES_PER_PRODUCT = 10  # 100,000 products -> 1,000,000 order lines
CHUNK = 5000  # products per bulk write
ORDER_CHUNK = 20_000
CENT = Decimal("0.01")
DUPLICATE_SHARE = 0.02  # listings that are a second copy of an item (same GTINs, same colour)
UNCATEGORISED_SHARE = 0.03  # left for category suggestion
PRICED_SHARE = 0.2  # products watched against competitors
OBSERVATION_WEEKS = 12
PAIR_SHARE = 0.45  # baskets whose first product brings its co-purchase partner
ZIPF_S = 1.07
COLLECTION_MEMBERS_MAX = 20_000
# The fixed collections of the small demo (docs examples use these ids): id, title, handle, recipe.
FIXED_COLLECTIONS = [
    (400000001, "All products", "all", "Best sellers (30 days)"),
    (400000002, "New arrivals", "new-arrivals", "New arrivals"),
    (400000003, "Trending now", "trending", "Trending (7 days)"),
    (400000004, "Sale", "sale", "Clearance"),
]
LEAF_COLLECTION_BASE = 400000100


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
        leaf = rng.choice(leaves)
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
            if index < count and rng.random() < DUPLICATE_SHARE:
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


PRODUCT_COLUMNS = [
    "tenant_id", "external_id", "name", "description", "image", "brand", "product_type", "handle", "status", "tags",
    "active", "category_id", "suggested_category_name", "gtin", "state", "state_changed_at", "last_error",
    "created_at", "updated_at", "category_suggestions",
]  # fmt: skip
VARIANT_COLUMNS = [
    "tenant_id", "product_id", "external_id", "title", "option1", "option2", "option3", "price", "compare_at_price",
    "cost", "sku", "barcode", "inventory_quantity", "inventory_tracked", "continue_selling", "position", "created_at",
    "updated_at",
]  # fmt: skip


def _product_rows(
    specs: list[Spec], tenant_id: int, leaf_pks: dict[int, int], rng: random.Random, now: datetime
) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """Rows of products, and (by product external id) options, variants and GTINs."""
    products, options, variants, gtins = [], [], [], []
    for spec in specs:
        pid = spec.external_id
        leaf = spec.leaf
        title = f"{spec.brand} {spec.model}" + (f" - {spec.colour}" if spec.colour else "")
        categorised = rng.random() >= UNCATEGORISED_SHARE
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
        values = _variant_options(spec)
        compare = rng.random() < 0.2
        sold_out = rng.random() < 0.04
        cost_share = rng.uniform(0.3, 0.6)
        first_gtin = ""
        for n, vals in enumerate(values, start=1):
            vid = pid * 100 + n
            price = spec.price
            if leaf.sizes in ("cookware", "tent", "pack", "weights", "set") and spec.sizes:
                price = _money(spec.price * (1 + Decimal("0.2") * spec.sizes.index(vals[-1])))
            quantity = 0 if sold_out or rng.random() < 0.15 else rng.choice([1, 2, 3, 5, 8, 12, 20, 35, 60, 120])
            barcode = gtin13(owner * 100 + n)
            first_gtin = first_gtin or "0" + barcode
            padded = (*vals, "", "")[:3]
            variants.append(
                (
                    tenant_id, pid, vid, " / ".join(vals), *padded, price,
                    _money(price * Decimal(rng.choice(["1.2", "1.25", "1.3", "1.5"]))) if compare else None,
                    _money(price * Decimal(str(round(cost_share, 2)))), f"{leaf.name[:3].upper()}-{vid}", barcode,
                    quantity, rng.random() > 0.05, rng.random() < 0.05, n, created, now,
                )
            )  # fmt: skip
            gtins.append((tenant_id, pid, "0" + barcode, n - 1, False))
        for position, (name, option_values) in enumerate(_option_names(spec), start=1):
            options.append((tenant_id, pid, pid * 10 + position, name, position, json.dumps(option_values)))
        products.append(
            (
                tenant_id, pid, title, description, f"https://cdn.example.com/demo/{owner}.jpg", spec.brand,
                leaf.name, f"{title.lower().replace(' ', '-').replace('&', 'and')}-{pid}", status,
                f"{spec.brand}, {leaf.name}, {spec.material}", status != "archived",
                leaf_pks[leaf.external_id] if categorised else None, "" if categorised else leaf.name,
                first_gtin, "ready" if categorised else "new", created, "", created, now, "[]",
            )
        )  # fmt: skip
    return products, options, variants, gtins


def _with_pks(rows: list[tuple], position: int, pks: dict[int, int]) -> Iterator[tuple]:
    """Rows with the product external id at ``position`` replaced by the product's pk."""
    for row in rows:
        yield (*row[:position], pks[row[position]], *row[position + 1 :])


def _write_products(
    tenant: Tenant, count: int, rng: random.Random, leaf_pks: dict[int, int], now: datetime, show: bool
) -> tuple[list[Spec], list[int]]:
    """Write the products; returns the specs (without text) and the duplicates' product pks."""
    bar = Progress("products", count, enabled=show)
    specs_all: list[Spec] = []
    duplicates: list[int] = []
    all_pks: dict[int, int] = {}  # a duplicate's original may be in an earlier chunk
    # the plan has a random stream of its own: rows draw from ``rng`` chunk by chunk, and sharing one
    # stream would make the shop depend on the chunk size
    stream = product_specs(count, random.Random(rng.random()))
    while chunk := list(itertools.islice(stream, CHUNK)):
        specs_all.extend(chunk)
        products, options, variants, gtins = _product_rows(chunk, tenant.pk, leaf_pks, rng, now)
        with transaction.atomic():
            lo, hi = chunk[0].external_id, chunk[-1].external_id
            # Products already there (a re-run, or the small demo's products 1000...) keep their own
            # options, variants and GTINs: only new products get the generated ones.
            existing = set(
                Product.objects.for_tenant(tenant)
                .filter(external_id__gte=lo, external_id__lte=hi)
                .values_list("external_id", flat=True)
            )
            if existing:
                options = [r for r in options if r[1] not in existing]
                variants = [r for r in variants if r[1] not in existing]
                gtins = [r for r in gtins if r[1] not in existing]
            insert(Product, PRODUCT_COLUMNS, products)
            pks = dict(
                Product.objects.for_tenant(tenant)
                .filter(external_id__gte=lo, external_id__lte=hi)
                .values_list("external_id", "pk")
            )
            option_cols = ["tenant_id", "product_id", "external_id", "name", "position", "values"]
            insert(ProductOption, option_cols, _with_pks(options, 1, pks))
            insert(Variant, VARIANT_COLUMNS, _with_pks(variants, 1, pks))
            insert(ProductGtin, ["tenant_id", "product_id", "gtin", "position", "restricted"], _with_pks(gtins, 1, pks))
        all_pks.update(pks)
        for spec in chunk:
            if spec.duplicate_of is not None:
                duplicates += [all_pks[spec.external_id], all_pks[FIRST_PRODUCT + spec.duplicate_of]]
        bar.advance(len(chunk))
    bar.close()
    return specs_all, duplicates


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

    def line(i: int) -> tuple:
        n = cat.var_count[i]
        j = cat.var_start[i] + min(n - 1, int(rng.triangular(0, n, n / 2)))  # middle sizes sell most
        quantity = rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
        cents = cat.var_cents[j]
        discount = (cents * quantity // 10) if rng.random() < 0.1 else 0
        return (cat.product_pk[i], cat.var_pk[j], FIRST_PRODUCT + i, cat.var_ext[j], quantity, cents, discount)

    while lines < lines_target:
        orders, order_lines = [], []
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
            ext = FIRST_ORDER + k
            orders.append((tenant.pk, ext, created, cancelled, created))
            order_lines += [(ext, *line(i)) for i in basket]
            k += 1
            lines += len(basket)
        with transaction.atomic():
            lo, hi = orders[0][1], orders[-1][1]
            before = set(
                Order.objects.for_tenant(tenant)
                .filter(external_id__gte=lo, external_id__lte=hi)
                .values_list("external_id", flat=True)
            )
            new = [o for o in orders if o[1] not in before]
            if new:
                insert(Order, ["tenant_id", "external_id", "created_at", "cancelled_at", "synced_at"], new)
                pks = dict(
                    Order.objects.for_tenant(tenant)
                    .filter(external_id__gte=lo, external_id__lte=hi)
                    .values_list("external_id", "pk")
                )
                rows = (
                    (tenant.pk, pks[o], p, v, pe, ve, q, Decimal(c) / 100, Decimal(d) / 100)
                    for o, p, v, pe, ve, q, c, d in order_lines
                    if o not in before
                )
                columns = ["tenant_id", "order_id", "product_id", "variant_id", "product_external_id",
                           "variant_external_id", "quantity", "price", "total_discount"]  # fmt: skip
                written_lines += insert(OrderLine, columns, rows, skip_existing=False)
                written_orders += len(new)
        bar.advance(len(order_lines))
    bar.close()
    return written_orders, written_lines


def rollup_daily_sales(tenant: Tenant) -> int:
    """Rebuild the tenant's DailySales from its order lines in one statement.

    The same aggregation as catalog.services.daily_sales_rollup (non-cancelled
    lines per variant and UTC day, revenue net of discounts), done in SQL: the
    service builds model instances per (variant, day) in 5,000-variant chunks,
    minutes for a million lines.
    """
    day = "(o.created_at AT TIME ZONE 'UTC')::date" if connection.vendor == "postgresql" else "date(o.created_at)"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DailySales._meta.db_table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute(
            f"""
            INSERT INTO {DailySales._meta.db_table} (tenant_id, product_id, variant_id, date, units, revenue, discount)
            SELECT l.tenant_id, v.product_id, l.variant_id, {day}, SUM(l.quantity),
                   ROUND(SUM(l.price * l.quantity) - SUM(l.total_discount), 2), ROUND(SUM(l.total_discount), 2)
            FROM {OrderLine._meta.db_table} l
            JOIN {Order._meta.db_table} o ON o.id = l.order_id
            JOIN {Variant._meta.db_table} v ON v.id = l.variant_id
            WHERE l.tenant_id = %s AND o.cancelled_at IS NULL
            GROUP BY l.tenant_id, v.product_id, l.variant_id, {day}
            """,  # noqa: S608  (table names from the models, values are parameters)
            [tenant.pk],
        )
        return cursor.rowcount


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
    return len(items)


def _pricing(
    tenant: Tenant, specs: list[Spec], cat: Catalog, rng: random.Random, today: datetime, show: bool
) -> tuple[int, int]:
    """Pricing settings, 2-4 competitors and weekly observations for a share of the products."""
    chosen = sorted(rng.sample(range(len(specs)), max(1, int(len(specs) * PRICED_SHARE))))
    chosen = [i for i in chosen if cat.var_count[i]]
    strategies = ["match_lowest", "beat_lowest", "stay_above_cost"]
    bar = Progress("competitors", len(chosen), enabled=show)
    competitors = observations = 0
    for start in range(0, len(chosen), CHUNK):
        part = chosen[start : start + CHUNK]
        settings_rows, competitor_rows, observed = [], [], []
        for i in part:
            pk = cat.product_pk[i]
            base = Decimal(cat.var_cents[cat.var_start[i]]) / 100
            strategy = strategies[i % 3]
            settings_rows.append(
                (
                    tenant.pk, pk, _money(base * Decimal("0.8")), _money(base * Decimal("1.3")), i % 2 == 0, True,
                    strategy, Decimal("0.50") if strategy == "beat_lowest" else None,
                    Decimal(15) if strategy == "stay_above_cost" else Decimal(0), False, CENT, False, "keep", "{}",
                    today, today,
                )
            )  # fmt: skip
            for name in rng.sample(words.COMPETITORS, rng.randint(2, 4)):
                level = rng.uniform(0.85, 1.15)
                hour = rng.randint(0, 23)
                history = []
                for week in range(OBSERVATION_WEEKS, 0, -1):
                    price = max(CENT, _money(base * Decimal(str(round(level + rng.uniform(-0.04, 0.04), 4)))))
                    at = today - timedelta(days=7 * week) + timedelta(hours=hour)
                    history.append((price, rng.random() > 0.1, at))
                url = f"https://www.{name.lower().replace(' ', '')}.example/p/{FIRST_PRODUCT + i}"
                last = history[-1]
                competitor_rows.append((tenant.pk, pk, name, url, last[0], last[1], last[2], today, today))
                observed.append(((pk, name), history))
        with transaction.atomic():
            settings_cols = ["tenant_id", "product_id", "min_price", "max_price", "auto_reprice", "active", "strategy",
                             "beat_amount", "min_margin_percent", "charm_pricing", "threshold", "include_out_of_stock",
                             "no_offers", "last_decision", "created_at", "updated_at"]  # fmt: skip
            insert(PricingSettings, settings_cols, settings_rows)
            competitors += insert(
                Competitor,
                ["tenant_id", "product_id", "name", "url", "current_price", "in_stock", "last_observed_at",
                 "created_at", "updated_at"],
                competitor_rows,
            )  # fmt: skip
            pks = {
                (p, n): c
                for p, n, c in Competitor.objects.for_tenant(tenant)
                .filter(product_id__in=[cat.product_pk[i] for i in part])
                .values_list("product_id", "name", "pk")
            }
            rows = (
                (tenant.pk, pks[key], key[0], price, in_stock, at, at)
                for key, history in observed
                for price, in_stock, at in history
            )
            observations += insert(
                Observation,
                ["tenant_id", "competitor_id", "product_id", "price", "in_stock", "observed_at", "received_at"],
                rows,
            )
        bar.advance(len(part))
    bar.close()
    return competitors, observations


def generate(
    *, tenant: Tenant, products: int, seed: int, lines: int | None = None, stdout: TextIO, progress: bool = True
) -> Report:
    """Create (or complete) the demo shop of ``tenant`` with ``products`` products; idempotent."""
    rng = random.Random(seed)
    now = timezone.now()
    today = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    report = Report()
    leaf_pks = _taxonomy(tenant, now)
    report.categories = len(words.BRANCHES) + len(words.LEAVES)
    specs, duplicates = _write_products(tenant, products, rng, leaf_pks, now, progress)
    # Duplicate clusters through catalog's own service (union-find over shared GTINs); few products.
    for start in range(0, len(duplicates), 2000):
        catalog_services.clusters_refresh(tenant=tenant, product_ids=duplicates[start : start + 2000])
    cat = _load_catalog(tenant, products)
    report.products = sum(1 for pk in cat.product_pk if pk)
    report.variants = len(cat.var_pk)
    # Each stage has its own random stream, so a stage's data does not depend on the sizes of earlier ones.
    report.orders, report.order_lines = _write_orders(
        tenant, specs, cat, lines if lines is not None else products * LINES_PER_PRODUCT,
        random.Random(seed * 7 + 1), today, progress,
    )  # fmt: skip
    if report.order_lines or not DailySales.objects.for_tenant(tenant).exists():
        report.daily_sales = rollup_daily_sales(tenant)
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
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in ANALYZED:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
