"""Pricing data attached to the catalog product master (DESIGN.md "One product, three views").

The product, its variants, their price and cost live in ``catalog``; this app
keeps what only pricing needs: settings per product, competitors, their
observations and our own price history.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product
from pricing.repricing import NoOffers, Strategy
from tenants.models import Tenant, TenantQuerySet


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class PricingSettings(models.Model):
    """A product's pricing settings (ShopiSync minPrice, maxPrice, autoReprice, active) and its strategy.

    One row per product, created on demand; a product without a row has the
    defaults (monitored, no auto-repricing, no bounds). The cost price is not
    here: it is ``catalog.Variant.cost``, shared with the other surfaces.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="pricing")
    min_price = _money(null=True, blank=True)
    max_price = _money(null=True, blank=True)
    auto_reprice = models.BooleanField(default=False)
    active = models.BooleanField(default=True, help_text="price monitoring enabled")
    strategy = models.CharField(
        max_length=20, choices=[(s.value, s.value) for s in Strategy], default=Strategy.MATCH_LOWEST
    )
    beat_amount = _money(null=True, blank=True, help_text="beat the lowest competitor by this amount")
    beat_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="or by this percentage (used when no amount is set)",
    )
    min_margin_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0), help_text="margin on the selling price kept above cost"
    )
    charm_pricing = models.BooleanField(default=False, help_text="end prices in .99")
    threshold = _money(default=Decimal("0.01"), help_text="skip changes smaller than this")
    max_step_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    include_out_of_stock = models.BooleanField(default=False)
    no_offers = models.CharField(max_length=10, choices=[(n.value, n.value) for n in NoOffers], default=NoOffers.KEEP)
    last_repriced_at = models.DateTimeField(null=True, blank=True)
    last_known_price = _money(
        null=True,
        blank=True,
        help_text="our price when pricing last read or set it; a different price at the next run was set in the "
        "shop (recorded as a sync change)",
    )
    last_decision = models.JSONField(default=dict, blank=True)
    decided_inputs = models.CharField(
        max_length=32,
        blank=True,
        default="",
        db_default="",  # rows written by raw inserts (the demo generator's COPY) start undecided too
        help_text="digest of the inputs (rules, price, cost, offers) under which the price is known to stay; "
        "a run that finds the same inputs skips the product",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "pricing settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(min_price__isnull=True) | Q(min_price__gte=0), name="pricing_min_price_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_price__isnull=True) | Q(max_price__gte=0), name="pricing_max_price_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(min_price__isnull=True)
                | Q(max_price__isnull=True)
                | Q(min_price__lte=models.F("max_price")),
                name="pricing_min_le_max",
            ),
            models.CheckConstraint(
                condition=Q(beat_amount__isnull=True) | Q(beat_amount__gte=0), name="pricing_beat_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(beat_percent__isnull=True) | Q(beat_percent__gte=0, beat_percent__lt=100),
                name="pricing_beat_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(min_margin_percent__gte=0, min_margin_percent__lt=100), name="pricing_margin_range"
            ),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="pricing_threshold_non_negative"),
            models.CheckConstraint(
                condition=Q(strategy__in=[s.value for s in Strategy]), name="pricing_strategy_valid"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "auto_reprice", "active"], name="pricing_tenant_auto")]

    def __str__(self) -> str:
        return f"pricing of {self.product.name}"


class Competitor(models.Model):
    """A competitor's listing of one of our products, with its latest observed price and stock."""

    # no single-column indexes on tenant and product: competitor_tenant_product_name and
    # competitor_unique_per_product start with them, and each index costs every ingest a write
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="competitors", db_index=False)
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=2048, blank=True)
    current_price = _money(null=True, blank=True)
    in_stock = models.BooleanField(default=True)
    last_observed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="competitor_unique_per_product"),
            models.CheckConstraint(
                condition=Q(current_price__isnull=True) | Q(current_price__gte=0), name="competitor_price_non_negative"
            ),
        ]
        # serves the tenant's competitor list in its order (product, name) without a sort
        indexes = [models.Index(fields=["tenant", "product", "name"], name="competitor_tenant_product_name")]

    def __str__(self) -> str:
        return f"{self.name} on {self.product.name}"


class Observation(models.Model):
    """One observed competitor price; idempotent per (competitor, observed_at), i.e. per product, competitor, time."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # no single-column indexes on competitor and product: observation_unique_time and
    # observation_product_time start with them, and the table takes a million inserts a day
    competitor = models.ForeignKey(Competitor, on_delete=models.CASCADE, related_name="observations", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_index=False)
    price = _money()
    in_stock = models.BooleanField(default=True)
    observed_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["competitor", "observed_at"], name="observation_unique_time"),
            models.CheckConstraint(condition=Q(price__gte=0), name="observation_price_non_negative"),
        ]
        indexes = [models.Index(fields=["product", "observed_at"], name="observation_product_time")]

    def __str__(self) -> str:
        # a high-volume table: name the competitor when it is loaded, never a query per row (delete pages list many)
        who = self.competitor.name if Observation.competitor.is_cached(self) else f"competitor {self.competitor_id}"
        return f"{who}: {self.price} at {self.observed_at:%Y-%m-%d %H:%M}"


class PriceSource(models.TextChoices):
    AUTO = "auto"
    MANUAL = "manual"
    SYNC = "sync"


class PriceChange(models.Model):
    """One change of our price (the reference variant's), with why and who caused it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_changes")
    old_price = _money()
    new_price = _money()
    reason = models.CharField(max_length=500)
    source = models.CharField(max_length=10, choices=PriceSource.choices)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(source__in=PriceSource.values), name="price_change_source_valid"),
            models.CheckConstraint(condition=Q(old_price__gte=0, new_price__gte=0), name="price_change_non_negative"),
        ]
        indexes = [
            models.Index(fields=["product", "-created_at", "-id"], name="price_change_product_time"),
            models.Index(fields=["tenant", "created_at"], name="price_change_tenant_time"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name}: {self.old_price} → {self.new_price} ({self.source})"


class RunState(models.TextChoices):
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


class RepriceRun(models.Model):
    """The outcome of one repricing task for a tenant, so a failed or crashed run stays visible."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=20, help_text="schedule or observations")
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.RUNNING)
    products_checked = models.PositiveIntegerField(default=0)
    products_changed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-started_at"], name="reprice_run_tenant_time")]

    def __str__(self) -> str:
        return f"reprice of {self.tenant.domain} at {self.started_at:%Y-%m-%d %H:%M} ({self.state})"


class PricedProduct(Product):
    """The catalog product seen from pricing (admin only): settings, competitors and history inline."""

    class Meta:
        proxy = True
        verbose_name = "priced product"
