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
from collections import defaultdict, namedtuple
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
from catalog import index
from catalog.models import Product, Variant
from core.bulk import bulk_insert, bulk_set_rows, insert_new, rows_locked_by_keys, rows_where
from core.outbox import enqueue
from pricing import repricing
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
        enqueue(reprice_tenant, tenant_id, ids, trigger)


# --- settings -------------------------------------------------------------------------------------------


def pricing_settings_lock(*, tenant: Tenant, product: Product) -> PricingSettings:
    """The product's settings row, created on demand and locked for this transaction (one statement when
    it exists: the read is the lock)."""
    row, _ = (
        PricingSettings.objects.for_tenant(tenant)
        .select_for_update()
        .get_or_create(product=product, defaults={"tenant": tenant})
    )
    return row


@transaction.atomic
def product_pricing_update(*, tenant: Tenant, product: Product, changes: Mapping[str, Any]) -> PricingSettings:
    """Apply a ShopiSync product update (min_price, max_price, cost_price, auto_reprice, active; all optional).

    ``cost_price`` becomes every variant's cost (the cost the other surfaces use).
    Everything or nothing: min above max raises before anything is written. Returns the settings row as
    written, and ``product`` (as pricing.selectors reads it) shows what was written, so the answer needs no
    second read: its settings are that row and, with ``cost_price``, its reference cost is the new cost.
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
    Product.pricing.related.set_cached_value(product, row)
    if "cost_price" in changes:
        updated = (
            Variant.objects.for_tenant(tenant)
            .filter(product=product)
            .update(cost=changes["cost_price"], updated_at=timezone.now())
        )
        if updated:  # the reference variant is one of them
            product.reference_cost = changes["cost_price"]
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


COMPETITOR_FIELDS = ("id", "product_id", "name", "current_price", "in_stock", "last_observed_at", "url")
OBSERVATION_FIELDS = ("tenant_id", "competitor_id", "product_id", "price", "in_stock", "observed_at", "received_at")


def _competitors_locked(tenant: Tenant, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], tuple]:
    """The tenant's competitors of these (product id, name) pairs, locked in id order, as ``COMPETITOR_FIELDS`` tuples.

    Locked in id order so concurrent ingests of the same competitors queue up instead of deadlocking.
    """
    rows = rows_locked_by_keys(
        Competitor, COMPETITOR_FIELDS, key=("product_id", "name"), keys=pairs, where={"tenant_id": tenant.pk}
    )
    return {(r[1], r[2]): r for r in rows}


def _observations_insert(tenant: Tenant, rows: list[tuple]) -> set[tuple[int, datetime]]:
    """Insert ``OBSERVATION_FIELDS`` rows not recorded yet; returns (competitor id, observed_at) of those inserted."""
    if not rows:
        return set()
    return set(
        insert_new(
            Observation,
            OBSERVATION_FIELDS,
            rows,
            unique=["competitor_id", "observed_at"],
            returning=["competitor_id", "observed_at"],
        )
    )


@transaction.atomic
def observations_ingest(*, tenant: Tenant, items: Sequence[ObservationIn]) -> dict[int, dict[str, Any]]:
    """Record competitor observations; idempotent per (product, competitor, observed_at).

    Keeps each competitor's current price and stock (from its latest observation),
    and enqueues repricing of auto-repriced products that got new observations.
    Returns a result per item index: ``created``, ``duplicate`` or ``error`` with messages.

    Set-based: a fixed number of statements per batch whatever its size (products,
    competitors locked, observations inserted, competitors updated, auto-repriced
    products; two more when the batch names new competitors).
    """
    results: dict[int, dict[str, Any]] = {}
    products = dict(
        Product.objects.for_tenant(tenant)
        .filter(external_id__in={i.product_id for i in items})
        .values_list("external_id", "id")
    )
    known = []
    for item in items:
        if item.product_id in products:
            known.append(item)
        else:
            results[item.index] = {"status": "error", "errors": {"product_id": ["product not found"]}}
    if not known:
        return results

    pairs = sorted({(products[i.product_id], i.competitor) for i in known})
    competitors = _competitors_locked(tenant, pairs)
    missing = [pair for pair in pairs if pair not in competitors]
    if missing:
        Competitor.objects.bulk_create(
            [Competitor(tenant=tenant, product_id=pid, name=name) for pid, name in missing], ignore_conflicts=True
        )
        competitors.update(_competitors_locked(tenant, missing))

    now = timezone.now()
    rows: list[tuple] = []
    first: list[tuple[ObservationIn, int, bool]] = []  # item, competitor id, first time in this batch
    seen: set[tuple[int, datetime]] = set()
    for item in known:
        competitor_id = competitors[(products[item.product_id], item.competitor)][0]
        key = (competitor_id, item.observed_at)
        first.append((item, competitor_id, key not in seen))
        if key not in seen:
            seen.add(key)
            rows.append(
                (
                    tenant.pk,
                    competitor_id,
                    products[item.product_id],
                    item.price,
                    item.in_stock,
                    item.observed_at,
                    now,
                )
            )
    created = _observations_insert(tenant, rows)

    latest: dict[int, ObservationIn] = {}
    urls: dict[int, str] = {}
    for item, competitor_id, is_first in first:
        if not is_first or (competitor_id, item.observed_at) not in created:
            results[item.index] = {"status": "duplicate"}
            continue
        results[item.index] = {"status": "created"}
        if item.url:
            urls[competitor_id] = item.url
        if competitor_id not in latest or item.observed_at > latest[competitor_id].observed_at:
            latest[competitor_id] = item

    by_id = {row[0]: row for row in competitors.values()}
    changes = []
    for competitor_id, item in latest.items():
        _, _, _, price, in_stock, observed_at, url = by_id[competitor_id]
        if observed_at is None or item.observed_at >= observed_at:
            price, in_stock, observed_at = item.price, item.in_stock, item.observed_at
        changes.append((competitor_id, price, in_stock, observed_at, urls.get(competitor_id, url), now))
    bulk_set_rows(Competitor, ["current_price", "in_stock", "last_observed_at", "url", "updated_at"], changes)

    touched = {by_id[pk][1] for pk in latest}
    if touched:
        auto = (
            PricingSettings.objects.for_tenant(tenant)
            .filter(product_id__in=touched, auto_reprice=True, active=True)
            .values_list("product_id", flat=True)
        )
        _enqueue_reprice(tenant.pk, list(auto), "observations")
    return results


# --- prices ---------------------------------------------------------------------------------------------


VariantRow = tuple[int, Decimal, Decimal | None]  # id, price, cost


def _moved(variants: Sequence[VariantRow], new_reference: Decimal) -> list[tuple[int, Decimal]]:
    """Move every variant by the reference variant's ratio (see the module docstring); (id, price) of those changed."""
    old_reference = variants[0][1]
    changed = []
    for position, (variant_id, old, _) in enumerate(variants):
        if position == 0 or old_reference <= 0:
            price = new_reference
        else:
            price = repricing.cents(old * new_reference / old_reference)
        if price != old:
            changed.append((variant_id, price))
    return changed


def _locked_variants(tenant: Tenant, product_ids: Iterable[int]) -> dict[int, list[VariantRow]]:
    """The products' variants, reference first (position, id), locked for this transaction."""
    by_product: dict[int, list[VariantRow]] = defaultdict(list)
    rows = (
        Variant.objects.for_tenant(tenant)
        .filter(product_id__in=list(product_ids))
        .select_for_update()
        .order_by("product_id", "position", "id")
        .values_list("product_id", "id", "price", "cost")
    )
    for product_id, *variant in rows:
        by_product[product_id].append(tuple(variant))
    return by_product


def _variant_prices_set(
    tenant: Tenant, product_ids: Sequence[int], changes: Sequence[tuple[int, Decimal]], now: datetime
) -> None:
    """Write new variant prices; after the commit every process's product index patches those products
    (recommendations read prices from it)."""
    if not changes:
        return
    bulk_set_rows(Variant, ["price", "updated_at"], [(pk, price, now) for pk, price in changes])
    ids = sorted(set(product_ids))
    transaction.on_commit(lambda: index.products_changed(tenant, ids))


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
    old = variants[0][1]
    if old == price:
        return None
    _variant_prices_set(tenant, [product.pk], _moved(variants, price), timezone.now())
    PricingSettings.objects.for_tenant(tenant).filter(product=product).update(last_known_price=price)
    return PriceChange.objects.create(
        tenant=tenant, product=product, old_price=old, new_price=price, reason=reason, source=source
    )


# the settings a repricing run reads (not the whole row: 100,000 model instances cost seconds)
RULE_FIELDS = (
    "strategy",
    "beat_amount",
    "beat_percent",
    "min_margin_percent",
    "min_price",
    "max_price",
    "charm_pricing",
    "threshold",
    "max_step_percent",
    "include_out_of_stock",
    "no_offers",
)


def rules_for(row: Any, cost: Decimal | None, max_age: timedelta) -> repricing.Rules:
    """The engine's rules from a settings row (a ``PricingSettings`` or a named row with ``RULE_FIELDS``)."""
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


SETTINGS_FIELDS = ("id", "product_id", "last_known_price", "decided_inputs", *RULE_FIELDS)
SettingsRow = namedtuple("SettingsRow", SETTINGS_FIELDS)
OFFER_FIELDS = ("product_id", "name", "current_price", "in_stock", "last_observed_at")


def _chunk_inputs(
    tenant: Tenant, settings_ids: list[int]
) -> tuple[list[SettingsRow], dict[int, list[VariantRow]], dict[int, list[repricing.Offer]]]:
    """A chunk's settings rows and variants (both locked, in id order) and its products' competitor offers.

    Three statements with the ids as one array parameter (typed narrow: the planner keeps the index scans),
    read through ``rows_where`` (binary results on PostgreSQL, each statement written once per shape, not
    compiled per chunk): ``IN`` lists of 1,000 placeholders and text parsing were about half the time of a run
    that changes nothing.
    """
    rows = [
        SettingsRow._make(r)
        for r in rows_where(
            PricingSettings,
            SETTINGS_FIELDS,
            where={"tenant_id": tenant.pk, "auto_reprice": True, "active": True},
            any_of=("id", settings_ids),
            order_by=("id",),
            lock=True,
        )
    ]
    product_ids = [r.product_id for r in rows]
    variants: dict[int, list[VariantRow]] = defaultdict(list)
    for product_id, variant_id, price, cost in rows_where(
        Variant,
        ("product_id", "id", "price", "cost"),
        where={"tenant_id": tenant.pk},
        any_of=("product_id", product_ids),
        order_by=("product_id", "position", "id"),
        lock=True,
    ):
        variants[product_id].append((variant_id, price, cost))
    offers: dict[int, list[repricing.Offer]] = defaultdict(list)
    for product_id, name, price, in_stock, observed_at in rows_where(
        Competitor,
        OFFER_FIELDS,
        where={"tenant_id": tenant.pk},
        any_of=("product_id", product_ids),
        not_null=("current_price",),
    ):
        offers[product_id].append(repricing.Offer(name, price, in_stock, observed_at))
    return rows, variants, offers


NO_VARIANTS = {"reason": "no variants: nothing to price"}
NO_VARIANTS_KEY = "no variants"
HISTORY_FIELDS = ("tenant_id", "product_id", "old_price", "new_price", "reason", "source", "details", "created_at")
DECIDED_FIELDS = ["last_decision", "last_repriced_at", "last_known_price", "decided_inputs"]


@transaction.atomic
def _reprice_chunk(*, tenant: Tenant, settings_ids: list[int], now: datetime) -> tuple[int, int]:
    """Reprice one chunk of settings rows in a fixed number of statements (3 reads, at most 3 writes).

    A product whose inputs (rules, price, cost, offers and which of them are
    stale: ``repricing.inputs_key``) are those under which its price is known to
    stay is skipped, with nothing written: an idempotent re-run only reads. After
    a change the key of the new price is stored when the engine keeps that price
    (always, except when a step limit stopped it short of its target).
    """
    rows, variants, offers = _chunk_inputs(tenant, settings_ids)
    max_age = stale_after()
    changed_variants: list[tuple[int, Decimal]] = []
    repriced: list[int] = []  # products whose price the run changed
    history: list[tuple] = []
    decided: list[tuple] = []  # settings rows to write, DECIDED_FIELDS after the id
    changed = 0
    for row in rows:
        product_variants = variants.get(row.product_id)
        if not product_variants:
            if row.decided_inputs != NO_VARIANTS_KEY:
                decided.append((row.id, NO_VARIANTS, now, row.last_known_price, NO_VARIANTS_KEY))
            continue
        current, cost = product_variants[0][1], product_variants[0][2]
        rules = rules_for(row, cost, max_age)
        product_offers = offers.get(row.product_id, ())
        context = repricing.inputs_context(offers=product_offers, rules=rules, now=now)
        key = repricing.price_key(current, context)
        if key == row.decided_inputs and row.last_known_price == current:
            continue  # decided under these very inputs: the engine would keep the price
        if row.last_known_price is not None and row.last_known_price != current:
            # the price moved since pricing last saw it: the shop (catalog sync) changed it
            history.append(
                (tenant.pk, row.product_id, row.last_known_price, current, "price changed in the shop", "sync", {}, now)
            )
        decision = repricing.decide(current=current, offers=product_offers, rules=rules, now=now)
        record = decision.as_dict()
        if decision.price is None:
            decided.append((row.id, record, now, current, key))
            continue
        changed += 1
        # the engine keeps the price it set (nothing but the step limit looks at the current price: the
        # engine test test_decision_is_a_fixed_point), so the next run can skip the product; with a step
        # limit it may have stopped short of its target, which the engine is asked
        settled = (
            rules.max_step_percent is None
            or repricing.decide(current=decision.price, offers=product_offers, rules=rules, now=now).price is None
        )
        after = repricing.price_key(decision.price, context) if settled else ""
        decided.append((row.id, record, now, decision.price, after))
        changed_variants += _moved(product_variants, decision.price)
        repriced.append(row.product_id)
        history.append((tenant.pk, row.product_id, current, decision.price, decision.reason[:500], "auto", record, now))
    _variant_prices_set(tenant, repriced, changed_variants, now)
    bulk_insert(PriceChange, HISTORY_FIELDS, history)
    bulk_set_rows(PricingSettings, DECIDED_FIELDS, decided)
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
