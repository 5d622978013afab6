"""The demo generator (demo/generator.py): deterministic, idempotent, and shaped like a real shop."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date
from itertools import combinations

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Sum

from catalog import recommendation_selectors
from catalog import services as catalog_services
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
from demo import generator, words
from demo.generator import FIRST_PRODUCT, generate
from merchandising.models import Collection, CollectionProduct
from pricing.models import Competitor, Observation, PriceChange, PricingSettings
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

PRODUCTS = 300
LINES = 3000
MODELS = (
    Category, CategoryAttribute, AttributeOption, Product, ProductOption, Variant, ProductGtin, Order, OrderLine,
    DailySales, DuplicateCluster, Collection, CollectionProduct, PricingSettings, Competitor, Observation,
)  # fmt: skip


def run(tenant: Tenant, seed: int = 42, products: int = PRODUCTS, lines: int = LINES):
    return generate(tenant=tenant, products=products, seed=seed, lines=lines, stdout=io.StringIO(), progress=False)


def counts(tenant: Tenant) -> dict[str, int]:
    return {m.__name__: m.objects.filter(tenant=tenant).count() for m in MODELS}


def fingerprint(tenant: Tenant) -> dict[str, list]:
    """The shop's content by external ids (database pks differ between tenants)."""
    return {
        "products": list(
            Product.objects.filter(tenant=tenant)
            .order_by("external_id")
            .values_list("external_id", "name", "brand", "description", "category__external_id", "gtin", "status")
        ),
        "variants": list(
            Variant.objects.filter(tenant=tenant)
            .order_by("external_id")
            .values_list("external_id", "title", "price", "compare_at_price", "cost", "barcode", "inventory_quantity")
        ),
        "lines": list(
            OrderLine.objects.filter(tenant=tenant)
            .order_by("order__external_id", "id")
            .values_list("order__external_id", "order__created_at", "variant_external_id", "quantity", "price")
        ),
        "observations": list(
            Observation.objects.filter(tenant=tenant)
            .order_by("product__external_id", "competitor__name", "observed_at")
            .values_list("product__external_id", "competitor__name", "observed_at", "price")
        ),
    }


def baskets(tenant: Tenant) -> list[set[int]]:
    by_order: dict[int, set[int]] = defaultdict(set)
    for order_id, product in OrderLine.objects.filter(tenant=tenant).values_list("order_id", "product_external_id"):
        by_order[order_id].add(product)
    return list(by_order.values())


def test_same_seed_same_shop_other_seed_other_shop(tenant_a, tenant_b):
    run(tenant_a, seed=7)
    run(tenant_b, seed=7)
    assert fingerprint(tenant_a) == fingerprint(tenant_b)
    other = Tenant.objects.create(domain="shop-c.myshopify.com", name="Shop C", plan="enterprise")
    run(other, seed=8)
    assert fingerprint(other)["products"] != fingerprint(tenant_a)["products"]
    assert fingerprint(other)["lines"] != fingerprint(tenant_a)["lines"]


def test_second_run_writes_nothing_new(tenant_a):
    first = run(tenant_a)
    before = counts(tenant_a)
    sales = DailySales.objects.filter(tenant=tenant_a).aggregate(units=Sum("units"), revenue=Sum("revenue"))
    again = run(tenant_a)
    assert counts(tenant_a) == before
    assert (again.orders, again.order_lines, again.competitors, again.observations) == (0, 0, 0, 0)
    assert DailySales.objects.filter(tenant=tenant_a).aggregate(units=Sum("units"), revenue=Sum("revenue")) == sales
    assert first.products == again.products == PRODUCTS


def test_command_uses_the_generator_above_the_small_demo_and_is_idempotent(db):
    out = io.StringIO()
    call_command("seed_demo", "--products", "120", "--generator", "--lines", "600", "--no-progress", stdout=out)
    call_command("seed_demo", "--products", "120", "--generator", "--lines", "600", "--no-progress", stdout=out)
    tenant = Tenant.objects.get(domain="demo.myshopify.com")
    assert Product.objects.filter(tenant=tenant).count() == 120
    assert 600 <= OrderLine.objects.filter(tenant=tenant).count() <= 603
    assert "0 order lines" in out.getvalue().split("Demo shop generated")[-1]


def test_catalog_shape(tenant_a):
    run(tenant_a)
    products = Product.objects.filter(tenant=tenant_a)
    assert products.count() == PRODUCTS
    assert products.aggregate(lo=Min("external_id"))["lo"] == FIRST_PRODUCT
    # a taxonomy of three levels, every leaf with attributes and their options
    assert Category.objects.filter(tenant=tenant_a).aggregate(m=Max("level"))["m"] == 3
    assert CategoryAttribute.objects.filter(tenant=tenant_a).count() >= len(words.LEAVES) * 2
    assert AttributeOption.objects.filter(tenant=tenant_a, attribute__name="Shoe size").exists()
    # 1 to 20 variants, real size systems, prices, compare-at prices, costs, sold-out variants
    per_product = Counter(Variant.objects.filter(tenant=tenant_a).values_list("product_id", flat=True))
    assert len(per_product) == PRODUCTS and min(per_product.values()) >= 1 and max(per_product.values()) <= 20
    assert max(per_product.values()) > 5
    option_names = set(ProductOption.objects.filter(tenant=tenant_a).values_list("name", flat=True))
    assert {"Color", "Size", "Waist", "Shoe size"} <= option_names
    variants = Variant.objects.filter(tenant=tenant_a)
    assert variants.filter(inventory_quantity=0).exists() and variants.filter(inventory_quantity__gt=0).exists()
    assert variants.filter(compare_at_price__isnull=False).exists()
    assert not variants.filter(cost__isnull=True).exists()
    assert all(v.cost < v.price for v in variants[:200])
    assert not products.filter(image="").exists() and not products.filter(brand="").exists()
    # a few products left uncategorised for category suggestion, with the shop's hint
    assert products.filter(category__isnull=True).exclude(suggested_category_name="").exists()


def test_duplicates_and_same_model_groups(tenant_a, tenant_b, monkeypatch):
    run(tenant_b, products=600)
    # small write chunks: a duplicate's original is often in an earlier chunk; the shop is the same
    monkeypatch.setattr(generator, "CHUNK", 64)
    run(tenant_a, products=600)
    assert fingerprint(tenant_a)["products"] == fingerprint(tenant_b)["products"]
    # true duplicates: two products sharing a GTIN, same title (same item, same colour), one cluster
    shared = (
        ProductGtin.objects.filter(tenant=tenant_a)
        .values("gtin")
        .annotate(n=Count("product", distinct=True))
        .filter(n__gt=1)
    )
    assert shared.exists()
    gtin = shared.order_by("gtin").first()["gtin"]
    pair = list(Product.objects.filter(tenant=tenant_a, gtins__gtin=gtin))
    assert len({p.name for p in pair}) == 1
    assert pair[0].cluster_id is not None and pair[0].cluster_id == pair[1].cluster_id
    assert DuplicateCluster.objects.filter(tenant=tenant_a).exists()
    # same-model colour groups: one model in several colours, each with GTINs of its own
    models = defaultdict(set)
    for name, gtin in Product.objects.filter(tenant=tenant_a).values_list("name", "gtin"):
        if " - " in name:
            model, colour = name.rsplit(" - ", 1)
            models[model].add((colour, gtin))
    groups = [g for g in models.values() if len({c for c, _ in g}) >= 3]
    assert groups
    assert all(len({gt for _, gt in g}) == len(g) for g in groups)


def test_orders_popularity_seasons_and_copurchase(tenant_a):
    run(tenant_a, products=PRODUCTS, lines=6000)
    lines = OrderLine.objects.filter(tenant=tenant_a)
    assert 6000 <= lines.count() <= 6003  # the last basket may overshoot the target
    span = Order.objects.filter(tenant=tenant_a).aggregate(lo=Min("created_at"), hi=Max("created_at"))
    assert (span["hi"] - span["lo"]).days >= 300
    assert Order.objects.filter(tenant=tenant_a, cancelled_at__isnull=False).exists()
    # heavy tail: the top 10% of products sell far more than their share
    sold = sorted(Counter(lines.values_list("product_external_id", flat=True)).values(), reverse=True)
    assert sum(sold[: PRODUCTS // 10]) > 0.4 * sum(sold)
    # seasonality: the Black Friday to Christmas weeks sell more per day than the year's average
    per_day = Counter(d.date() for d in Order.objects.filter(tenant=tenant_a).values_list("created_at", flat=True))
    peak = [n for d, n in per_day.items() if (d.month == 12 and d.day <= 24) or (d.month == 11 and d.day >= 20)]
    assert sum(peak) / max(len(peak), 1) > 1.3 * sum(per_day.values()) / 365
    # co-purchase: the most frequent product pairs are real pairs (leaves in words.PAIRS), bought together
    # much more often than their popularity alone explains
    bought = baskets(tenant_a)
    single = Counter(p for b in bought for p in b)
    pairs = Counter(frozenset(pq) for b in bought for pq in combinations(sorted(b), 2))
    leaf_of = dict(Product.objects.filter(tenant=tenant_a).values_list("external_id", "product_type"))
    leaf_pairs = {
        frozenset((a.name, b.name))
        for a in words.LEAVES
        for b in words.LEAVES
        if (a.external_id, b.external_id) in words.PAIRS
    }
    top = pairs.most_common(20)
    assert sum(frozenset(leaf_of[p] for p in pq) in leaf_pairs for pq, _ in top) >= 10
    a, b = tuple(top[0][0])
    lift = top[0][1] * len(bought) / (single[a] * single[b])
    assert lift > 3


def test_daily_sales_match_catalogs_rollup_service(tenant_a):
    run(tenant_a, products=150, lines=1500)
    rows = DailySales.objects.filter(tenant=tenant_a)
    ours = sorted(rows.values_list("variant_id", "date", "units", "revenue", "discount"))
    pairs = {(v, d) for v, d, *_ in ours}
    pairs |= {(v, date(2000, 1, 1)) for v, *_ in ours[:3]}  # days without sales stay empty
    catalog_services.daily_sales_rollup(tenant=tenant_a, pairs=pairs)
    assert sorted(rows.values_list("variant_id", "date", "units", "revenue", "discount")) == ours
    assert (
        sum(u for _, _, u, _, _ in ours)
        == (
            OrderLine.objects.filter(tenant=tenant_a, order__cancelled_at__isnull=True).aggregate(n=Sum("quantity"))[
                "n"
            ]
        )
    )


def test_collections_and_pricing(tenant_a):
    run(tenant_a)
    fixed = Collection.objects.filter(tenant=tenant_a, external_id__in=[400000001, 400000002, 400000003, 400000004])
    assert fixed.count() == 4
    assert not Collection.objects.filter(tenant=tenant_a, recipe__isnull=True).exists()
    assert Collection.objects.filter(tenant=tenant_a, shop_sort_order="best-selling").count() >= 10
    assert CollectionProduct.objects.filter(collection__external_id=400000001).count() == PRODUCTS
    priced = PricingSettings.objects.filter(tenant=tenant_a)
    assert priced.count() >= PRODUCTS * 0.15
    per_product = Counter(Competitor.objects.filter(tenant=tenant_a).values_list("product_id", flat=True))
    assert set(per_product) == set(priced.values_list("product_id", flat=True))
    assert min(per_product.values()) >= 2 and max(per_product.values()) <= 4
    competitor = Competitor.objects.filter(tenant=tenant_a).first()
    history = list(competitor.observations.order_by("observed_at").values_list("observed_at", "price"))
    assert len(history) == 12 and history[-1][1] == competitor.current_price


def test_generator_over_the_small_demo_leaves_its_products_alone(db):
    out = io.StringIO()
    call_command("seed_demo", "--products", "100", stdout=out)  # a smaller shop first: products 1000...
    tenant = Tenant.objects.get(domain="demo.myshopify.com")
    small = {
        p: sorted(Variant.objects.filter(product__external_id=p).values_list("external_id", flat=True))
        for p in (1000, 1050)
    }
    call_command("seed_demo", "--products", "300", "--generator", "--lines", "900", "--no-progress", stdout=out)
    assert Product.objects.filter(tenant=tenant).count() == 300
    for p, variant_ids in small.items():
        assert sorted(Variant.objects.filter(product__external_id=p).values_list("external_id", flat=True)) == (
            variant_ids
        )
    # the products above the smaller shop's have their generated variants
    assert Variant.objects.filter(product__external_id=1250, external_id__gte=1250 * 100).exists()


def test_generated_products_get_same_model_similar_and_complementary_recommendations(tenant_a):
    """What the retired catalog demo (catalog/demo.py) gave the demo shop: every kind of recommendation."""
    run(tenant_a, products=120, lines=1200)
    kinds = set()
    for product in Product.objects.filter(tenant=tenant_a).order_by("external_id")[:30]:
        kinds |= {c.kind for c in recommendation_selectors.compute(tenant_a, product)}
    assert {"same_model", "similar", "complementary"} <= kinds


def test_repricing_acts_on_the_fed_observations_once(tenant_a, django_capture_on_commit_callbacks, eager_tasks):
    """What the retired pricing demo (pricing/demo.py) gave the demo shop: a price history, not grown by a re-run."""
    with django_capture_on_commit_callbacks(execute=True):  # the repricing the feed queues
        run(tenant_a)
    changes = PriceChange.objects.filter(tenant=tenant_a).count()
    assert changes > 0
    with django_capture_on_commit_callbacks(execute=True):
        run(tenant_a)
    assert PriceChange.objects.filter(tenant=tenant_a).count() == changes
