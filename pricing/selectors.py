"""Pricing reads. Every function starts from the tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from apikeys.exceptions import NotFound
from catalog.models import Product, Variant
from core import sql_json
from core.bulk import json_rows, per_database
from pricing.models import Competitor, PriceChange, PricingSettings
from tenants.models import Tenant

MAX_BIGINT = 2**63 - 1
# what the ShopiSync product body shows; loading nothing else keeps list pages cheap
PRODUCT_FIELDS = [
    "id",
    "tenant_id",
    "external_id",
    "name",
    *(f"pricing__{f}" for f in ("id", "product_id", "min_price", "max_price", "auto_reprice", "active", "strategy")),
]
COMPETITOR_FIELDS = ["id", "product_id", "name", "url", "current_price", "in_stock", "last_observed_at"]
RECENT_CHANGES = 10


def _reference(field: str, product_ref: str = "pk") -> Subquery:
    """``field`` of the product's reference variant (first by position, id), which gives its price and cost:
    read in the product's own query (one index lookup per row) instead of prefetching every variant."""
    first = Variant.objects.filter(product_id=OuterRef(product_ref)).order_by("position", "id").values(field)[:1]
    return Subquery(first)


def product_list(*, tenant: Tenant) -> QuerySet[Product]:
    """The tenant's products with settings, reference price and cost, and competitors, in a total order
    (external id)."""
    competitors = Competitor.objects.order_by("name", "id").only(*COMPETITOR_FIELDS)
    return (
        Product.objects.for_tenant(tenant)
        .select_related("pricing")
        .only(*PRODUCT_FIELDS)
        .annotate(reference_price=_reference("price"), reference_cost=_reference("cost"))
        .prefetch_related(Prefetch("competitors", queryset=competitors))
        # external_id is unique per tenant, so it alone is a total order and the (tenant, external_id)
        # unique index serves it; a trailing id would force a sort of every row of the shop
        .order_by("external_id")
    )


def active_q(active: bool) -> Q:
    """Monitoring on/off; a product without a settings row has the default (active)."""
    if active:
        return Q(pricing__isnull=True) | Q(pricing__active=True)
    return Q(pricing__active=False)


def product_get(*, tenant: Tenant, external_id: int) -> Product:
    """One product by its external id, or NotFound (also for another tenant's id)."""
    if not 0 < external_id <= MAX_BIGINT:
        raise NotFound("Product not found")
    try:
        # get() drops the list's ORDER BY: a unique key needs none, and compiling it costs as much as the query
        return product_list(tenant=tenant).get(external_id=external_id)
    except Product.DoesNotExist:
        raise NotFound("Product not found") from None


# The ShopiSync product body (ProductDetailSerializer) in one statement: the product, its settings by join, its
# reference variant's price and cost, its competitors and its last price changes as JSON arrays. One round
# trip instead of three, and no queryset to compile per request (docs/benchmarks.md).
_DETAIL_SQL = """
SELECT p.id, p.tenant_id, p.external_id, p.name,
       s.id AS settings_id, s.min_price AS settings_min_price, s.max_price AS settings_max_price,
       s.auto_reprice AS settings_auto_reprice, s.active AS settings_active, s.strategy AS settings_strategy,
       (SELECT v.price FROM catalog_variant v WHERE v.product_id = p.id ORDER BY v.position, v.id LIMIT 1)
           AS reference_price,
       (SELECT v.cost FROM catalog_variant v WHERE v.product_id = p.id ORDER BY v.position, v.id LIMIT 1)
           AS reference_cost,
       {competitors} AS competitors_json, {changes} AS changes_json
FROM catalog_product p
LEFT JOIN pricing_pricingsettings s ON s.product_id = p.id
WHERE p.tenant_id = %s AND p.external_id = %s
"""
_COMPETITOR_COLUMNS = "c.id, c.name, c.url, c.current_price, c.in_stock, c.last_observed_at"
_CHANGE_COLUMNS = "x.id, x.old_price, x.new_price, x.reason, x.source, x.created_at"
_RECENT = f"""SELECT * FROM pricing_pricechange pc WHERE pc.tenant_id = p.tenant_id AND pc.product_id = p.id
                 ORDER BY pc.created_at DESC, pc.id DESC LIMIT {RECENT_CHANGES}"""  # noqa: S608 (constants)


@per_database
def _detail_sql() -> str:
    return _DETAIL_SQL.format(
        competitors=json_rows(
            _COMPETITOR_COLUMNS, "FROM pricing_competitor c WHERE c.product_id = p.id", order_by="c.name, c.id"
        ),
        changes=json_rows(_CHANGE_COLUMNS, f"FROM ({_RECENT}) x", order_by="x.created_at DESC, x.id DESC"),
    )


def product_detail(*, tenant: Tenant, external_id: int) -> Product:
    """One product as the ShopiSync detail shows it (settings, reference price and cost, competitors and
    ``product.recent_changes``) in one statement, or NotFound (also for another tenant's id)."""
    if not 0 < external_id <= MAX_BIGINT:
        raise NotFound("Product not found")
    rows = list(Product.objects.raw(_detail_sql(), [tenant.pk, external_id]))
    if not rows:
        raise NotFound("Product not found")
    product = rows[0]
    settings = None
    if product.settings_id is not None:
        settings = PricingSettings(
            pk=product.settings_id,
            product_id=product.pk,
            tenant_id=product.tenant_id,
            min_price=sql_json.decimal(product.settings_min_price),
            max_price=sql_json.decimal(product.settings_max_price),
            auto_reprice=bool(product.settings_auto_reprice),
            active=bool(product.settings_active),
            strategy=product.settings_strategy,
        )
    Product.pricing.related.set_cached_value(product, settings)  # None: settings_of() answers "no row"
    product.reference_price, product.reference_cost = (
        sql_json.decimal(product.reference_price),
        sql_json.decimal(product.reference_cost),
    )
    competitors = [
        Competitor(
            pk=pk,
            product_id=product.pk,
            tenant_id=product.tenant_id,
            name=name,
            url=url,
            current_price=sql_json.decimal(price),
            in_stock=bool(in_stock),
            last_observed_at=sql_json.aware(observed),
        )
        for pk, name, url, price, in_stock, observed in sql_json.rows(product.competitors_json, decimals=True)
    ]
    cached = product.competitors.all()  # what a prefetch leaves: the manager's queryset, already evaluated
    cached._result_cache, cached._prefetch_done = competitors, True
    product._prefetched_objects_cache = {"competitors": cached}
    product.recent_changes = [
        PriceChange(
            pk=pk,
            product_id=product.pk,
            tenant_id=product.tenant_id,
            old_price=sql_json.decimal(old),
            new_price=sql_json.decimal(new),
            reason=reason,
            source=source,
            created_at=sql_json.aware(created),
        )
        for pk, old, new, reason, source, created in sql_json.rows(product.changes_json, decimals=True)
    ]
    return product


def recent_price_changes(*, tenant: Tenant, product: Product, limit: int = RECENT_CHANGES) -> list[PriceChange]:
    """The product's last ``limit`` price changes, newest first."""
    return list(PriceChange.objects.for_tenant(tenant).filter(product=product).order_by("-created_at", "-id")[:limit])


def competitor_list(*, tenant: Tenant) -> QuerySet[Competitor]:
    return (
        Competitor.objects.for_tenant(tenant)
        .select_related("product")
        .annotate(product_reference_price=_reference("price", "product_id"))
        # (product, name) is unique: a total order, read straight from the (tenant, product, name) index
        .order_by("product_id", "name")
    )


def price_history(*, tenant: Tenant, product: Product, days: int) -> QuerySet[PriceChange]:
    since = timezone.now() - timedelta(days=days)
    return (
        PriceChange.objects.for_tenant(tenant)
        .filter(product=product, created_at__gte=since)
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Stats:
    total_products: int
    active_products: int
    total_competitors: int
    price_changes_24h: int
    plan: str
    shop_domain: str


def stats(*, tenant: Tenant) -> Stats:
    products = Product.objects.for_tenant(tenant)
    return Stats(
        total_products=products.count(),
        active_products=products.filter(active_q(True)).count(),
        total_competitors=Competitor.objects.for_tenant(tenant).count(),
        price_changes_24h=PriceChange.objects.for_tenant(tenant)
        .filter(created_at__gte=timezone.now() - timedelta(hours=24))
        .count(),
        plan=tenant.plan,
        shop_domain=tenant.domain,
    )


def settings_of(product: Product) -> PricingSettings | None:
    """The product's settings row if it has one (already loaded by product_list)."""
    try:
        return product.pricing
    except PricingSettings.DoesNotExist:
        return None


def price_chart_series(*, product: Product, days: int = 30, max_points: int = 2000) -> dict:
    """Our price and each competitor's observed prices over the last ``days``, for the admin chart."""
    from pricing.charts import OURS
    from pricing.models import Observation

    now = timezone.now()
    since = now - timedelta(days=days)
    changes = list(
        PriceChange.objects.for_tenant(product.tenant)
        .filter(product=product, created_at__gte=since)
        .order_by("created_at", "id")
        .values_list("created_at", "old_price", "new_price")[:max_points]
    )
    reference = Variant.objects.filter(product=product).order_by("position", "id").first()
    ours = []
    if changes:
        ours.append((since, changes[0][1]))
        ours += [(at, new) for at, _, new in changes]
    if reference is not None:
        if not ours:
            ours.append((since, reference.price))
        ours.append((now, reference.price))
    series = {OURS: ours}
    observations = (
        Observation.objects.for_tenant(product.tenant)
        .filter(product=product, observed_at__gte=since)
        .select_related("competitor")
        .order_by("observed_at", "id")
        .values_list("competitor__name", "observed_at", "price")[:max_points]
    )
    for name, at, price in observations:
        series.setdefault(name, []).append((at, price))
    return series
