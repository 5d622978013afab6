"""Reads of the merchandising app; every function starts from the tenant."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db.models import (
    Avg,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone

from apikeys.exceptions import NotFound
from catalog.models import DailySales, Product, ProductOption, Variant
from core import sql_json
from core.bulk import json_rows, json_value, per_database
from merchandising import option_sorting, sorting
from merchandising.models import (
    Collection,
    CollectionProduct,
    CollectionProductCount,
    OptionSortRule,
    ProductSetting,
    Recipe,
)
from tenants.models import Tenant


def window_start(days: str, *, today: date | None = None) -> date | None:
    """First day of a "last N days" window (today included); None for all time."""
    if days == "all":
        return None
    return (today or timezone.now().date()) - timedelta(days=int(days) - 1)


# ---- recipes --------------------------------------------------------------------------------


def recipe_list(*, tenant: Tenant) -> QuerySet[Recipe]:
    return Recipe.objects.for_tenant(tenant).annotate(collection_count=Count("collections")).order_by("id")


def recipe_get(*, tenant: Tenant, recipe_id: int) -> Recipe:
    recipe = Recipe.objects.for_tenant(tenant).filter(pk=recipe_id).first()
    if recipe is None:
        raise NotFound(f"Recipe {recipe_id} not found")
    return recipe


# ---- collections ----------------------------------------------------------------------------


_collection_product_total = (
    CollectionProductCount.objects.filter(collection_id=OuterRef("pk"))
    .order_by()
    .values("collection_id")
    .annotate(total=Sum("n"))
    .values("total")
)


def collection_product_total(*, collection: Collection) -> int:
    """The collection's number of products (kept by triggers, exact)."""
    return CollectionProductCount.objects.filter(collection=collection).aggregate(total=Sum("n"))["total"] or 0


def collection_list(*, tenant: Tenant, since_id: int = 0, limit: int | None = None) -> QuerySet[Collection]:
    """Collections by id after ``since_id``; all of them without ``limit`` (Dynasort: "List all collections")."""
    qs = (
        Collection.objects.for_tenant(tenant)
        .filter(external_id__gt=since_id)
        .select_related("recipe")
        # the triggers' count (catalog/counters.py): a few counter rows per collection, where
        # Count("memberships") read every membership of the tenant (33 ms for 25 collections at 100,000 products)
        .annotate(product_count=Coalesce(Subquery(_collection_product_total), 0))
        .order_by("external_id")
    )
    return qs[:limit] if limit is not None else qs


def collection_get(*, tenant: Tenant, collection_id: int, for_update: bool = False) -> Collection:
    qs = Collection.objects.for_tenant(tenant).filter(external_id=collection_id)
    if for_update:
        qs = qs.select_for_update()
    collection = qs.select_related("recipe").first() if not for_update else qs.first()
    if collection is None:
        raise NotFound(f"Collection {collection_id} not found")
    return collection


def collections_get_many(*, tenant: Tenant, collection_ids: list[int], for_update: bool = False) -> list[Collection]:
    """All the collections named, in the order given; not_found naming the missing ones otherwise."""
    qs = Collection.objects.for_tenant(tenant).filter(external_id__in=collection_ids).order_by("pk")
    if for_update:
        qs = qs.select_for_update()
    found = {c.external_id: c for c in qs}
    missing = [cid for cid in collection_ids if cid not in found]
    if missing:
        raise NotFound(f"Collections not found: {', '.join(str(m) for m in missing[:20])}")
    return [found[cid] for cid in dict.fromkeys(collection_ids)]


def collection_products(*, collection: Collection, offset: int = 0, limit: int = 250) -> list[CollectionProduct]:
    return list(
        CollectionProduct.objects.filter(collection=collection)
        .select_related("product", "product__merchandising")
        .order_by("position", "id")[offset : offset + limit]
    )


# ---- products -------------------------------------------------------------------------------


# A product's options as list_products and get_product show them: by position, each with its sort rule.
OPTIONS_WITH_RULES = Prefetch(
    "options", queryset=ProductOption.objects.select_related("sort_rule").order_by("position")
)


def product_list(*, tenant: Tenant, since_id: int = 0, limit: int = 50) -> list[Product]:
    return list(
        Product.objects.for_tenant(tenant)
        .filter(external_id__gt=since_id)
        .select_related("merchandising")
        .prefetch_related(OPTIONS_WITH_RULES)
        .order_by("external_id")[:limit]
    )


# The Dynasort get_product body (actions.product_detail_out) in one statement: the product, its setting by join,
# its options (with their sort rules) and variants as JSON arrays. One round trip instead of three, and no
# queryset to compile per request (docs/benchmarks.md).
_DETAIL_SQL = """
SELECT p.id, p.tenant_id, p.external_id, p.name, p.status,
       s.id AS setting_id, s.boost AS setting_boost, s.option_sorting_enabled AS setting_enabled,
       s.option_sort_state AS setting_state, s.options_sorted_at AS setting_sorted_at,
       s.option_sort_error AS setting_error,
       {options} AS options_json, {variants} AS variants_json,
       (SELECT w.id FROM merchandising_storewriteback w WHERE w.product_id = p.id
        ORDER BY w.created_at DESC, w.id DESC LIMIT 1) AS writeback_id
FROM catalog_product p
LEFT JOIN merchandising_productsetting s ON s.product_id = p.id
WHERE p.tenant_id = %s AND p.external_id = %s
"""
_OPTION_COLUMNS = (
    "o.external_id, o.name, o.position, {values}, r.id, r.sort_type, r.sold_out, r.direction, r.days, "
    "r.csv_pattern, r.common_size, r.last_sorted_at, r.last_sort_method"
)
_OPTIONS_FROM = (
    "FROM catalog_productoption o LEFT JOIN merchandising_optionsortrule r ON r.option_id = o.id "
    "WHERE o.product_id = p.id"
)
_VARIANT_COLUMNS = (
    "v.external_id, v.title, v.option1, v.option2, v.option3, v.price, v.compare_at_price, v.cost, "
    "v.inventory_quantity, v.inventory_tracked, v.continue_selling"
)


@per_database
def _detail_sql() -> str:
    return _DETAIL_SQL.format(
        options=json_rows(
            _OPTION_COLUMNS.format(values=json_value('o."values"')), _OPTIONS_FROM, order_by="o.position"
        ),
        variants=json_rows(
            _VARIANT_COLUMNS, "FROM catalog_variant v WHERE v.product_id = p.id", order_by="v.position, v.id"
        ),
    )


def product_detail(*, tenant: Tenant, product_id: int) -> Product:
    """One product as get_product shows it (setting, options with sort rules, variants) in one statement; its
    ``writeback_id`` is the id of the product's latest option-order writeback to the store (None when none)."""
    rows = list(Product.objects.raw(_detail_sql(), [tenant.pk, product_id]))
    if not rows:
        raise NotFound(f"Product {product_id} not found")
    product = rows[0]
    setting = None
    if product.setting_id is not None:
        setting = ProductSetting(
            pk=product.setting_id,
            product_id=product.pk,
            tenant_id=product.tenant_id,
            boost=product.setting_boost,
            option_sorting_enabled=bool(product.setting_enabled),
            option_sort_state=product.setting_state,
            options_sorted_at=sql_json.aware(product.setting_sorted_at),
            option_sort_error=product.setting_error,
        )
    Product.merchandising.related.set_cached_value(product, setting)  # None: product_setting() answers "none"
    options = []
    for external_id, name, position, values, rule_id, *rule in sql_json.rows(product.options_json, decimals=True):
        option = ProductOption(
            product_id=product.pk, tenant_id=product.tenant_id, external_id=external_id, name=name, position=position
        )
        option.values = sql_json.rows(values, decimals=True) if isinstance(values, str) else values
        sort_rule = None
        if rule_id is not None:
            sort_type, sold_out, direction, days, csv_pattern, common_size, last_sorted_at, method = rule
            sort_rule = OptionSortRule(
                pk=rule_id,
                sort_type=sort_type,
                sold_out=sold_out,
                direction=direction,
                days=days,
                csv_pattern=csv_pattern,
                common_size=common_size,
                last_sorted_at=sql_json.aware(last_sorted_at),
                last_sort_method=method,
            )
        ProductOption.sort_rule.related.set_cached_value(option, sort_rule)
        options.append(option)
    variant_rows = sql_json.rows(product.variants_json, decimals=True)
    variants = [
        Variant(
            product_id=product.pk,
            tenant_id=product.tenant_id,
            external_id=external_id,
            title=title,
            option1=o1,
            option2=o2,
            option3=o3,
            price=sql_json.money(price),
            compare_at_price=sql_json.money(compare_at),
            cost=sql_json.money(cost),
            inventory_quantity=quantity,
            inventory_tracked=bool(tracked),
            continue_selling=bool(continue_selling),
        )
        for external_id, title, o1, o2, o3, price, compare_at, cost, quantity, tracked, continue_selling in variant_rows
    ]
    product._prefetched_objects_cache = {}
    for name, items in (("options", options), ("variants", variants)):
        cached = getattr(product, name).all()  # what a prefetch leaves: the manager's queryset, already evaluated
        cached._result_cache, cached._prefetch_done = items, True
        product._prefetched_objects_cache[name] = cached
    return product


def _reverse_one(descriptor, instance, missing: type[Exception]):
    """A reverse one-to-one value or None: from the cache that select_related or the detail reads filled
    (no exception raised for a missing row: bodies render several fields of it per product), else read."""
    related = descriptor.related
    if related.is_cached(instance):
        return related.get_cached_value(instance)
    try:
        return getattr(instance, related.get_accessor_name())
    except missing:
        return None


def product_setting(product: Product) -> ProductSetting | None:
    return _reverse_one(Product.merchandising, product, ProductSetting.DoesNotExist)


def option_rule(option: ProductOption) -> OptionSortRule | None:
    return _reverse_one(ProductOption.sort_rule, option, OptionSortRule.DoesNotExist)


# ---- facts for the engines ------------------------------------------------------------------


def _f(value) -> float | None:
    return None if value is None else float(value)


_SELLABLE = Q(inventory_quantity__gt=0) | Q(inventory_tracked=False) | Q(continue_selling=True)
_FLOAT = FloatField()
# Per product, computed by the database (one row per product instead of one per variant):
# margin % = (price - cost) / price averaged over variants with a cost; discount % =
# (compare_at - price) / compare_at, 0 without a higher compare-at price.
_VARIANT_AGGREGATES = {
    "sellable": Count("id", filter=_SELLABLE),
    "min_price": Min("price"),
    "tracked": Count("id", filter=Q(inventory_tracked=True)),
    "inventory": Sum(Greatest("inventory_quantity", Value(0)), filter=Q(inventory_tracked=True)),
    "margin": Avg(
        ExpressionWrapper((Cast("price", _FLOAT) - Cast("cost", _FLOAT)) / Cast("price", _FLOAT), output_field=_FLOAT),
        filter=Q(cost__isnull=False, price__gt=0),
    ),
    "discount": Avg(
        Case(
            When(
                compare_at_price__gt=F("price"),
                then=(Cast("compare_at_price", _FLOAT) - Cast("price", _FLOAT)) / Cast("compare_at_price", _FLOAT),
            ),
            default=Value(0.0),
            output_field=_FLOAT,
        ),
        filter=Q(price__gt=0),
    ),
}


def collection_facts(
    *, collection: Collection, days: str, now: datetime | None = None, all_time_units: bool = False
) -> tuple[list[int], list[sorting.ProductFacts]]:
    """Current order (internal product ids) and engine facts of every product of a collection.

    Three queries whatever the size: memberships with products and boosts, the
    variants, and the daily sales aggregated per product by the database (a fourth
    for all-time units when ``all_time_units`` is asked for a shorter window).
    """
    now = now or timezone.now()
    members = list(
        CollectionProduct.objects.filter(collection=collection)
        .order_by("position", "id")
        .values_list("product_id", "product__name", "product__created_at", "product__merchandising__boost")
    )
    product_ids = [m[0] for m in members]
    membership = CollectionProduct.objects.filter(collection=collection).values("product_id")
    variants = {
        row["product_id"]: row
        for row in Variant.objects.filter(tenant_id=collection.tenant_id, product_id__in=membership)
        .values("product_id")
        .annotate(**_VARIANT_AGGREGATES)
    }
    start = window_start(days, today=now.date())
    sales_qs = DailySales.objects.filter(tenant_id=collection.tenant_id, product_id__in=membership)
    window = sales_qs if start is None else sales_qs.filter(date__gte=start)
    sales = {
        r["product_id"]: (r["units"], r["revenue"])
        for r in window.values("product_id").annotate(units=Sum("units"), revenue=Sum("revenue"))
    }
    # the best-selling revert reads all-time units; the same numbers when the window is already all time
    all_units: dict[int, int] = {}
    if start is None:
        all_units = {pid: units for pid, (units, _) in sales.items()}
    elif all_time_units:
        all_units = dict(sales_qs.values("product_id").annotate(units=Sum("units")).values_list("product_id", "units"))
    facts = []
    for product_id, name, created_at, boost in members:
        agg = variants.get(product_id)
        units, revenue = sales.get(product_id, (0, 0))
        facts.append(
            sorting.ProductFacts(
                product_id=product_id,
                title=name,
                created_at=created_at,
                # sold out: has no variant that can be sold (a product without variants sells nothing)
                sold_out=agg is None or not agg["sellable"],
                boost=boost or 0,
                min_price=_f(agg["min_price"]) if agg else None,
                metrics={
                    "sales": float(units or 0),
                    "revenue": float(revenue or 0),
                    # untracked variants have no count to compare: such products leave the metric out
                    "inventory": float(agg["inventory"] or 0) if agg and agg["tracked"] else None,
                    "margin": _f(agg["margin"]) if agg else None,
                    "newness": max((now - created_at).total_seconds(), 0.0) / 86400.0,
                    "discount": _f(agg["discount"]) if agg else None,
                },
                all_time_units=float(all_units.get(product_id) or 0),
            )
        )
    return product_ids, facts


def product_variant_facts(*, product: Product, days: str, now: datetime | None = None) -> list:
    """Engine facts of each variant of a product with its units and revenue in the window."""
    now = now or timezone.now()
    start = window_start(days, today=now.date())
    sales_qs = DailySales.objects.filter(tenant_id=product.tenant_id, product=product)
    if start is not None:
        sales_qs = sales_qs.filter(date__gte=start)
    sales = {
        r["variant_id"]: (r["units"] or 0, r["revenue"] or 0)
        for r in sales_qs.values("variant_id").annotate(units=Sum("units"), revenue=Sum("revenue"))
    }
    out = []
    for v in Variant.objects.filter(tenant_id=product.tenant_id, product=product).order_by("position", "id"):
        units, revenue = sales.get(v.pk, (0, 0))
        out.append(
            option_sorting.VariantFacts(
                options=(v.option1, v.option2, v.option3),
                price=float(v.price),
                compare_at_price=_f(v.compare_at_price),
                cost=_f(v.cost),
                inventory=v.inventory_quantity,
                sellable=v.sellable,
                created_at=v.created_at,
                units=float(units),
                revenue=float(revenue),
            )
        )
    return out


def enabled_collection_ids(*, tenant_ids: Iterable[int] | None = None) -> list[int]:
    """Internal ids of every enabled collection with a recipe (the periodic re-sort)."""
    qs = Collection.objects.filter(enabled=True, recipe__isnull=False)
    if tenant_ids is not None:
        qs = qs.filter(tenant_id__in=list(tenant_ids))
    return list(qs.order_by("pk").values_list("pk", flat=True))
