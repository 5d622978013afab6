"""Pricing reads. Every function starts from the tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch, Q, QuerySet
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


def _variants() -> Prefetch:
    # only what pricing shows: the reference variant (first by position, id) gives price and cost
    return Prefetch(
        "variants",
        queryset=Variant.objects.order_by("position", "id").only("id", "product_id", "price", "cost", "position"),
    )


def product_list(*, tenant: Tenant) -> QuerySet[Product]:
    """The tenant's products with settings, variants and competitors, in a total order (external id)."""
    competitors = Competitor.objects.order_by("name", "id").only(*COMPETITOR_FIELDS)
    return (
        Product.objects.for_tenant(tenant)
        .select_related("pricing")
        .only(*PRODUCT_FIELDS)
        .prefetch_related(_variants(), Prefetch("competitors", queryset=competitors))
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
    product = product_list(tenant=tenant).filter(external_id=external_id).first()
    if product is None:
        raise NotFound("Product not found")
    return product


def recent_price_changes(*, tenant: Tenant, product: Product, limit: int = RECENT_CHANGES) -> list[PriceChange]:
    """The product's last ``limit`` price changes, newest first."""
    return list(PriceChange.objects.for_tenant(tenant).filter(product=product).order_by("-created_at", "-id")[:limit])


def competitor_list(*, tenant: Tenant) -> QuerySet[Competitor]:
    return (
        Competitor.objects.for_tenant(tenant)
        .select_related("product")
        .prefetch_related(
            Prefetch(
                "product__variants",
                queryset=Variant.objects.order_by("position", "id").only(
                    "id", "product_id", "price", "cost", "position"
                ),
            )
        )
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
