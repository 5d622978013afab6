"""Demo data for pricing (called by ``manage.py seed_demo`` after the catalog demo).

For a share of the shop's existing products: pricing settings (some with
auto-repricing), 2 to 4 competitors each and one observation per competitor
per day for the 14 days before today, then one repricing run. Observation times are
anchored to midnight UTC and every random draw comes from ``seed``, so a second
run on the same day adds nothing. With no products, nothing is created.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import TextIO

from django.utils import timezone

from catalog.models import Product, Variant
from pricing import services
from pricing.models import PriceChange, PricingSettings
from pricing.repricing import CENT, Strategy
from pricing.services import ObservationIn
from tenants.models import Tenant

COMPETITORS = ["Amazon", "Walmart", "eBay", "Target", "Best Buy", "Etsy"]
SHARE = Decimal("0.6")
DAYS = 14
BATCH = 1000


def _observations(rng: random.Random, rows: list[tuple[int, int, Decimal]]) -> Iterator[ObservationIn]:
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    index = 0
    for _, external_id, base in rows:
        for name in rng.sample(COMPETITORS, rng.randint(2, 4)):
            level = rng.randint(8500, 11500)  # the competitor's price level, in basis points of our price
            hour = rng.randint(0, 23)
            for day in range(DAYS, 0, -1):  # up to yesterday: never an observation in the future
                drift = rng.randint(-300, 300)
                price = (base * (level + drift) / 10000).quantize(CENT)
                yield ObservationIn(
                    index=index,
                    product_id=external_id,
                    competitor=name,
                    url=f"https://www.{name.lower().replace(' ', '')}.example/p/{external_id}",
                    price=max(price, CENT),
                    in_stock=rng.random() > 0.1,
                    observed_at=midnight - timedelta(days=day) + timedelta(hours=hour),
                )
                index += 1


def seed(*, tenant: Tenant, products: int, seed: int, stdout: TextIO) -> None:
    """Seed competitors, observations and settings for a share of ``tenant``'s products (idempotent)."""
    rng = random.Random(seed)
    all_products = list(Product.objects.for_tenant(tenant).order_by("external_id").values_list("id", "external_id"))
    if not all_products:
        stdout.write("pricing demo: the shop has no products; nothing seeded\n")
        return
    count = max(1, int(len(all_products) * SHARE))
    chosen = sorted(rng.sample(all_products, count))
    prices: dict[int, Decimal] = {}
    for product_id, price in (
        Variant.objects.for_tenant(tenant)
        .filter(product_id__in=[p for p, _ in chosen])
        .order_by("product_id", "-position", "-id")
        .values_list("product_id", "price")
    ):
        prices[product_id] = price  # the last one written is the reference (first by position, id)
    rows = [(pid, ext, prices[pid]) for pid, ext in chosen if prices.get(pid)]

    strategies = [Strategy.MATCH_LOWEST, Strategy.BEAT_LOWEST, Strategy.STAY_ABOVE_COST]
    existing = set(PricingSettings.objects.for_tenant(tenant).values_list("product_id", flat=True))
    new_settings = []
    for i, (pid, _, base) in enumerate(rows):
        strategy = strategies[i % 3]
        new_settings.append(
            PricingSettings(
                tenant=tenant,
                product_id=pid,
                auto_reprice=i % 2 == 0,
                strategy=strategy,
                beat_amount=Decimal("0.50") if strategy != Strategy.MATCH_LOWEST else None,
                min_margin_percent=Decimal(15) if strategy == Strategy.STAY_ABOVE_COST else Decimal(0),
                min_price=(base * Decimal("0.8")).quantize(CENT),
                max_price=(base * Decimal("1.3")).quantize(CENT),
            )
        )
    PricingSettings.objects.bulk_create([s for s in new_settings if s.product_id not in existing], batch_size=BATCH)

    created = 0
    batch: list[ObservationIn] = []
    for item in _observations(rng, rows):
        batch.append(item)
        if len(batch) == BATCH:
            created += sum(
                r["status"] == "created" for r in services.observations_ingest(tenant=tenant, items=batch).values()
            )
            batch = []
    if batch:
        created += sum(
            r["status"] == "created" for r in services.observations_ingest(tenant=tenant, items=batch).values()
        )
    services.products_reprice(tenant=tenant, trigger="demo")
    # repricing may also have run right after ingestion (eager tasks): count the history instead
    changes = PriceChange.objects.for_tenant(tenant).count()
    stdout.write(
        f"pricing demo: {len(rows)} products priced, {created} new observations, {changes} price changes in history\n"
    )
