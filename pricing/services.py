"""Pricing writes: settings, competitor observations, repricing and manual price changes.

Prices live on ``catalog.Variant`` so every surface sees one price. A product's
price is its *reference variant's* price (the first variant by position, then
id). A change of the product price moves every variant by the same ratio
(new reference / old reference, each rounded to cents), so the variants keep
their relative spread; a reference price of 0 sets every variant to the new
price.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apikeys.exceptions import ValidationFailed
from catalog.models import Product, Variant
from pricing import repricing
from pricing.bulk import bulk_set
from pricing.models import (
    Competitor,
    Observation,
    PriceChange,
    PriceSource,
    PricingSettings,
    RepriceRun,
    RunState,
)
from tenants.models import Tenant

log = logging.getLogger("pricing")

CHUNK = 1000


def stale_after() -> timedelta:
    """Competitor offers older than this are ignored (settings.PRICING_STALE_AFTER_HOURS, default 48)."""
    return timedelta(hours=getattr(settings, "PRICING_STALE_AFTER_HOURS", 48))


def _enqueue_reprice(tenant_id: int, product_ids: Sequence[int], trigger: str) -> None:
    from pricing.tasks import reprice_tenant  # tasks import services: import here to keep one direction

    ids = sorted(set(product_ids))
    if ids:
        transaction.on_commit(lambda: reprice_tenant.delay(tenant_id, ids, trigger))


# --- settings -------------------------------------------------------------------------------------------


def pricing_settings_lock(*, tenant: Tenant, product: Product) -> PricingSettings:
    """The product's settings row, created on demand and locked for this transaction."""
    PricingSettings.objects.get_or_create(product=product, defaults={"tenant": tenant})
    return PricingSettings.objects.for_tenant(tenant).select_for_update().get(product=product)


@transaction.atomic
def product_pricing_update(*, tenant: Tenant, product: Product, changes: Mapping[str, Any]) -> PricingSettings:
    """Apply a ShopiSync product update (min_price, max_price, cost_price, auto_reprice, active; all optional).

    ``cost_price`` becomes every variant's cost (the cost the other surfaces use).
    Everything or nothing: min above max raises before anything is written.
    """
    row = pricing_settings_lock(tenant=tenant, product=product)
    min_price = changes.get("min_price", row.min_price)
    max_price = changes.get("max_price", row.max_price)
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ValidationFailed(
            "minPrice must not be above maxPrice",
            errors={"minPrice": [f"{min_price} is above maxPrice {max_price}"]},
        )
    fields = []
    for name in ("min_price", "max_price", "auto_reprice", "active"):
        if name in changes:
            setattr(row, name, changes[name])
            fields.append(name)
    if fields:
        row.save(update_fields=[*fields, "updated_at"])
    if "cost_price" in changes:
        Variant.objects.for_tenant(tenant).filter(product=product).update(
            cost=changes["cost_price"], updated_at=timezone.now()
        )
    if row.auto_reprice and row.active:
        _enqueue_reprice(tenant.pk, [product.pk], "settings")
    return row


# --- observations ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservationIn:
    """One validated observation of the platform feed (``product_id`` is the product's external id)."""

    index: int
    product_id: int
    competitor: str
    url: str
    price: Decimal
    in_stock: bool
    observed_at: datetime


@transaction.atomic
def observations_ingest(*, tenant: Tenant, items: Sequence[ObservationIn]) -> dict[int, dict[str, Any]]:
    """Record competitor observations; idempotent per (product, competitor, observed_at).

    Keeps each competitor's current price and stock (from its latest observation),
    and enqueues repricing of auto-repriced products that got new observations.
    Returns a result per item index: ``created``, ``duplicate`` or ``error`` with messages.
    """
    results: dict[int, dict[str, Any]] = {}
    products = {
        p.external_id: p.pk
        for p in Product.objects.for_tenant(tenant)
        .filter(external_id__in={i.product_id for i in items})
        .only("id", "external_id")
    }
    known = []
    for item in items:
        if item.product_id in products:
            known.append(item)
        else:
            results[item.index] = {"status": "error", "errors": {"product_id": ["product not found"]}}
    if not known:
        return results

    pairs = {(products[i.product_id], i.competitor) for i in known}
    product_ids = {pid for pid, _ in pairs}

    def load() -> dict[tuple[int, str], Competitor]:
        # locked in id order so concurrent ingests of the same competitors queue up instead of deadlocking
        rows = (
            Competitor.objects.for_tenant(tenant)
            .filter(product_id__in=product_ids, name__in={n for _, n in pairs})
            .select_for_update()
            .order_by("id")
        )
        return {(c.product_id, c.name): c for c in rows}

    competitors = load()
    missing = pairs - competitors.keys()
    if missing:
        Competitor.objects.bulk_create(
            [Competitor(tenant=tenant, product_id=pid, name=name) for pid, name in sorted(missing)],
            ignore_conflicts=True,
        )
        competitors = load()

    existing = set(
        Observation.objects.for_tenant(tenant)
        .filter(competitor_id__in={c.pk for c in competitors.values()}, observed_at__in={i.observed_at for i in known})
        .values_list("competitor_id", "observed_at")
    )
    new: list[Observation] = []
    latest: dict[int, ObservationIn] = {}
    urls: dict[int, str] = {}
    for item in known:
        competitor = competitors[(products[item.product_id], item.competitor)]
        key = (competitor.pk, item.observed_at)
        if key in existing:
            results[item.index] = {"status": "duplicate"}
            continue
        existing.add(key)
        results[item.index] = {"status": "created"}
        new.append(
            Observation(
                tenant=tenant,
                competitor=competitor,
                product_id=competitor.product_id,
                price=item.price,
                in_stock=item.in_stock,
                observed_at=item.observed_at,
            )
        )
        if item.url:
            urls[competitor.pk] = item.url
        if competitor.pk not in latest or item.observed_at > latest[competitor.pk].observed_at:
            latest[competitor.pk] = item
    Observation.objects.bulk_create(new, ignore_conflicts=True, batch_size=CHUNK)

    changed: list[Competitor] = []
    by_pk = {c.pk: c for c in competitors.values()}
    for pk, item in latest.items():
        competitor = by_pk[pk]
        if competitor.last_observed_at is None or item.observed_at >= competitor.last_observed_at:
            competitor.current_price = item.price
            competitor.in_stock = item.in_stock
            competitor.last_observed_at = item.observed_at
        competitor.url = urls.get(pk, competitor.url)
        competitor.updated_at = timezone.now()
        changed.append(competitor)
    bulk_set(Competitor, changed, ["current_price", "in_stock", "last_observed_at", "url", "updated_at"])

    touched = {by_pk[pk].product_id for pk in latest}
    auto = (
        PricingSettings.objects.for_tenant(tenant)
        .filter(product_id__in=touched, auto_reprice=True, active=True)
        .values_list("product_id", flat=True)
    )
    _enqueue_reprice(tenant.pk, list(auto), "observations")
    return results


# --- prices ---------------------------------------------------------------------------------------------


def _moved(variants: list[Variant], new_reference: Decimal) -> list[Variant]:
    """Move every variant by the reference variant's ratio (see the module docstring); returns the changed ones."""
    old_reference = variants[0].price
    changed = []
    for variant in variants:
        if variant is variants[0] or old_reference <= 0:
            price = new_reference
        else:
            price = repricing.cents(variant.price * new_reference / old_reference)
        if price != variant.price:
            variant.price = price
            variant.updated_at = timezone.now()
            changed.append(variant)
    return changed


def _locked_variants(tenant: Tenant, product_ids: Iterable[int]) -> dict[int, list[Variant]]:
    by_product: dict[int, list[Variant]] = defaultdict(list)
    rows = (
        Variant.objects.for_tenant(tenant)
        .filter(product_id__in=list(product_ids))
        .select_for_update()
        .order_by("product_id", "position", "id")
        .only("id", "product_id", "price", "cost", "position")
    )
    for variant in rows:
        by_product[variant.product_id].append(variant)
    return by_product


@transaction.atomic
def product_price_set(
    *, tenant: Tenant, product: Product, price: Decimal, source: str = PriceSource.MANUAL, reason: str
) -> PriceChange | None:
    """Set a product's price by hand (or from a sync) and record it in history; None when nothing changed."""
    if price < 0:
        raise ValidationFailed("price must not be negative", errors={"price": ["must be >= 0"]})
    variants = _locked_variants(tenant, [product.pk]).get(product.pk)
    if not variants:
        raise ValidationFailed("the product has no variants to price", errors={"price": ["no variants"]})
    old = variants[0].price
    if old == price:
        return None
    bulk_set(Variant, _moved(variants, price), ["price", "updated_at"])
    PricingSettings.objects.for_tenant(tenant).filter(product=product).update(last_known_price=price)
    return PriceChange.objects.create(
        tenant=tenant, product=product, old_price=old, new_price=price, reason=reason, source=source
    )


def rules_for(row: PricingSettings, cost: Decimal | None, max_age: timedelta) -> repricing.Rules:
    return repricing.Rules(
        strategy=repricing.Strategy(row.strategy),
        beat_amount=row.beat_amount,
        beat_percent=row.beat_percent,
        min_margin_percent=row.min_margin_percent,
        min_price=row.min_price,
        max_price=row.max_price,
        cost=cost,
        charm=row.charm_pricing,
        threshold=row.threshold,
        max_step_percent=row.max_step_percent,
        max_age=max_age,
        include_out_of_stock=row.include_out_of_stock,
        no_offers=repricing.NoOffers(row.no_offers),
    )


@transaction.atomic
def _reprice_chunk(*, tenant: Tenant, settings_ids: list[int], now: datetime) -> tuple[int, int]:
    rows = list(
        PricingSettings.objects.for_tenant(tenant)
        .filter(pk__in=settings_ids, auto_reprice=True, active=True)
        .select_for_update()
        .order_by("id")
    )
    variants = _locked_variants(tenant, [r.product_id for r in rows])
    offers: dict[int, list[repricing.Offer]] = defaultdict(list)
    for product_id, name, price, in_stock, observed_at in (
        Competitor.objects.for_tenant(tenant)
        .filter(product_id__in=[r.product_id for r in rows], current_price__isnull=False)
        .values_list("product_id", "name", "current_price", "in_stock", "last_observed_at")
    ):
        offers[product_id].append(repricing.Offer(name, price, in_stock, observed_at))
    max_age = stale_after()
    changed_variants: list[Variant] = []
    history: list[PriceChange] = []
    changed = 0
    for row in rows:
        product_variants = variants.get(row.product_id)
        if not product_variants:
            row.last_decision = {"reason": "no variants: nothing to price"}
            row.last_repriced_at = now
            continue
        reference = product_variants[0]
        if row.last_known_price is not None and row.last_known_price != reference.price:
            # the price moved since pricing last saw it: the shop (catalog sync) changed it
            history.append(
                PriceChange(
                    tenant=tenant,
                    product_id=row.product_id,
                    old_price=row.last_known_price,
                    new_price=reference.price,
                    reason="price changed in the shop",
                    source=PriceSource.SYNC,
                    created_at=now,
                )
            )
        row.last_known_price = reference.price
        decision = repricing.decide(
            current=reference.price,
            offers=offers.get(row.product_id, ()),
            rules=rules_for(row, reference.cost, max_age),
            now=now,
        )
        row.last_decision = decision.as_dict()
        row.last_repriced_at = now
        if decision.price is None:
            continue
        old = reference.price
        changed += 1
        row.last_known_price = decision.price
        changed_variants += _moved(product_variants, decision.price)
        history.append(
            PriceChange(
                tenant=tenant,
                product_id=row.product_id,
                old_price=old,
                new_price=decision.price,
                reason=decision.reason[:500],
                source=PriceSource.AUTO,
                details=decision.as_dict(),
                created_at=now,
            )
        )
    bulk_set(Variant, changed_variants, ["price", "updated_at"])
    PriceChange.objects.bulk_create(history, batch_size=CHUNK)
    bulk_set(PricingSettings, rows, ["last_decision", "last_repriced_at", "last_known_price"])
    return len(rows), changed


def products_reprice(
    *, tenant: Tenant, product_ids: Sequence[int] | None = None, trigger: str = "schedule", now: datetime | None = None
) -> RepriceRun:
    """Reprice the tenant's auto-repriced, active products (or those of ``product_ids``, internal ids).

    Runs in chunks, each its own transaction with its settings and variant rows
    locked, so a second run at the same time waits and then finds nothing left to
    change: running it twice is the same as running it once. The outcome is a
    ``RepriceRun`` row; a failure marks it ``error`` with the reason and re-raises.
    """
    now = now or timezone.now()
    run = RepriceRun.objects.create(tenant=tenant, trigger=trigger, started_at=now)
    query = PricingSettings.objects.for_tenant(tenant).filter(auto_reprice=True, active=True)
    if product_ids is not None:
        query = query.filter(product_id__in=list(product_ids))
    ids = list(query.order_by("id").values_list("id", flat=True))
    try:
        for start in range(0, len(ids), CHUNK):
            checked, changed = _reprice_chunk(tenant=tenant, settings_ids=ids[start : start + CHUNK], now=now)
            run.products_checked += checked
            run.products_changed += changed
    except Exception as exc:
        run.state = RunState.ERROR
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = timezone.now()
        run.save()
        raise
    run.state = RunState.DONE
    run.finished_at = timezone.now()
    run.save()
    return run


def tenants_to_reprice() -> list[int]:
    """Ids of tenants with at least one auto-repriced, active product (on any plan: the data is theirs)."""
    return list(
        PricingSettings.objects.filter(Q(auto_reprice=True) & Q(active=True))
        .values_list("tenant_id", flat=True)
        .distinct()
        .order_by("tenant_id")
    )
