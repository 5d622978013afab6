"""Pricing reads. Every function starts from the tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from apikeys.exceptions import NotFound
from catalog.models import Product, Variant
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
