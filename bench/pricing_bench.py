"""Pricing benchmarks: repricing, observation ingestion, GET /products throughput.

Run against a database of its own (never the test database), e.g.:

    createdb -h 127.0.0.1 -U postgres pricing_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pricing_bench REDIS_URL=redis://127.0.0.1:6379/3 \
        /work/main/.venv/bin/python bench/pricing_bench.py --products 100000 --competitors 5 \
        --observations 1000000 --requests 300

It migrates the database, builds (or reuses) a tenant ``bench-pricing.example``
with the requested data and prints one line per measurement. Celery runs eager
here so the ingestion numbers include nothing asynchronous (repricing is measured
on its own).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from apikeys.services import api_key_create  # noqa: E402
from catalog.models import Product, Variant  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from pricing import repricing, services  # noqa: E402
from pricing.models import Competitor, Observation, PriceChange, PricingSettings  # noqa: E402
from pricing.services import ObservationIn  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

DOMAIN = "bench-pricing.example"
BATCH = 5000
BASE_ID = 10_000_000


def log(message: str) -> None:
    print(message, flush=True)


def tenant_with_data(products: int, competitors: int) -> Tenant:
    tenant = Tenant.objects.filter(domain=DOMAIN).first() or tenant_create(
        domain=DOMAIN, name="Pricing bench", plan="enterprise"
    )
    have = Product.objects.for_tenant(tenant).count()
    if have == products and Competitor.objects.for_tenant(tenant).count() == products * competitors:
        return tenant
    log(f"building {products:,} products x {competitors} competitors ...")
    started = time.perf_counter()
    Product.objects.for_tenant(tenant).delete()
    rng = random.Random(7)
    for start in range(0, products, BATCH):
        ids = range(BASE_ID + start, BASE_ID + min(start + BATCH, products))
        rows = Product.objects.bulk_create(
            [Product(tenant=tenant, external_id=i, name=f"Bench product {i}") for i in ids]
        )
        Variant.objects.bulk_create(
            [
                Variant(
                    tenant=tenant, product=p, external_id=p.external_id, price=Decimal("50.00"), cost=Decimal("20.00")
                )
                for p in rows
            ]
        )
        PricingSettings.objects.bulk_create(
            [
                PricingSettings(
                    tenant=tenant,
                    product=p,
                    auto_reprice=True,
                    strategy="beat_lowest",
                    beat_amount=Decimal("0.10"),
                    min_price=Decimal("25.00"),
                    max_price=Decimal("80.00"),
                )
                for p in rows
            ]
        )
        now = timezone.now()
        Competitor.objects.bulk_create(
            [
                Competitor(
                    tenant=tenant,
                    product=p,
                    name=f"Competitor {c}",
                    current_price=Decimal(rng.randint(3000, 7000)) / 100,
                    in_stock=rng.random() > 0.1,
                    last_observed_at=now - timedelta(hours=rng.randint(0, 60)),
                )
                for p in rows
                for c in range(competitors)
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics after the bulk load
    log(f"  built in {time.perf_counter() - started:.1f} s")
    return tenant


def bench_engine(products: int, competitors: int) -> None:
    rng = random.Random(1)
    now = timezone.now()
    rules = repricing.Rules(
        strategy=repricing.Strategy.BEAT_LOWEST,
        beat_amount=Decimal("0.10"),
        min_price=Decimal("25.00"),
        max_price=Decimal("80.00"),
        cost=Decimal("20.00"),
    )
    cases = [
        [
            repricing.Offer(
                f"c{c}",
                Decimal(rng.randint(3000, 7000)) / 100,
                rng.random() > 0.1,
                now - timedelta(hours=rng.randint(0, 60)),
            )
            for c in range(competitors)
        ]
        for _ in range(products)
    ]
    started = time.perf_counter()
    for offers in cases:
        repricing.decide(current=Decimal("50.00"), offers=offers, rules=rules, now=now)
    elapsed = time.perf_counter() - started
    log(
        f"engine only: {products:,} decisions x {competitors} offers in {elapsed:.2f} s "
        f"({products / elapsed:,.0f} products/s)"
    )


def bench_reprice(tenant: Tenant, products: int, competitors: int) -> None:
    Variant.objects.for_tenant(tenant).update(price=Decimal("50.00"))
    # forget the price the last run left, or the reset above would be recorded as shop (sync) changes, and the
    # inputs it decided under, so the first run decides every product again
    PricingSettings.objects.for_tenant(tenant).update(last_known_price=None, decided_inputs="")
    PriceChange.objects.for_tenant(tenant).delete()
    started = time.perf_counter()
    run = services.products_reprice(tenant=tenant, trigger="bench")
    elapsed = time.perf_counter() - started
    log(
        f"reprice: {run.products_checked:,} products x {competitors} competitors, {run.products_changed:,} changed, "
        f"in {elapsed:.1f} s ({run.products_checked / elapsed:,.0f} products/s)"
    )
    started = time.perf_counter()
    again = services.products_reprice(tenant=tenant, trigger="bench")
    elapsed = time.perf_counter() - started
    log(f"reprice again (idempotent, {again.products_changed} changed) in {elapsed:.1f} s")
    # the usual scheduled run: a few competitors changed since the last one (new prices, as ingestion sets them)
    moved = list(Competitor.objects.for_tenant(tenant).order_by("id").values_list("id", flat=True)[::500])
    Competitor.objects.filter(pk__in=moved).update(current_price=Decimal("30.00"), last_observed_at=timezone.now())
    started = time.perf_counter()
    after = services.products_reprice(tenant=tenant, trigger="bench")
    elapsed = time.perf_counter() - started
    log(
        f"reprice after {len(moved):,} competitor price changes ({after.products_changed:,} products changed) "
        f"in {elapsed:.1f} s"
    )


def bench_ingest(tenant: Tenant, products: int, observations: int, batch: int) -> None:
    # observations spread over the products' existing competitors ("Competitor 0..4"), at distinct times
    PricingSettings.objects.for_tenant(tenant).update(auto_reprice=False)  # measure ingestion alone
    Observation.objects.for_tenant(tenant).delete()
    rng = random.Random(3)
    base = timezone.now().replace(microsecond=0) - timedelta(days=30)
    started = time.perf_counter()
    created = 0
    for start in range(0, observations, batch):
        items = []
        for n in range(start, min(start + batch, observations)):
            product = BASE_ID + n % products
            items.append(
                ObservationIn(
                    index=n - start,
                    product_id=product,
                    competitor=f"Competitor {n % 5}",
                    url="",
                    price=Decimal(rng.randint(3000, 7000)) / 100,
                    in_stock=True,
                    observed_at=base + timedelta(seconds=n),
                )
            )
        created += sum(
            r["status"] == "created" for r in services.observations_ingest(tenant=tenant, items=items).values()
        )
        if start and start % 100_000 == 0:
            log(f"  ... {start:,} in {time.perf_counter() - started:.0f} s")
    elapsed = time.perf_counter() - started
    log(f"ingest: {created:,} observations in batches of {batch} in {elapsed:.1f} s ({created / elapsed:,.0f} obs/s)")
    started = time.perf_counter()
    dupes = services.observations_ingest(tenant=tenant, items=items)
    log(
        f"ingest: re-sent last batch of {len(items)}: {sum(r['status'] == 'duplicate' for r in dupes.values())} "
        f"duplicates in {time.perf_counter() - started:.2f} s"
    )
    PricingSettings.objects.for_tenant(tenant).update(auto_reprice=True)


def bench_list(tenant: Tenant, requests: int, limit: int) -> None:
    key = api_key_create(tenant=tenant, name="bench", permission="read", rate_limit=10**9)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}")
    total = Product.objects.for_tenant(tenant).count()
    pages = max(1, total // limit)
    rng = random.Random(5)
    client.get(f"/api/external/v1/products?limit={limit}")
    started = time.perf_counter()
    latencies = []
    for _ in range(requests):
        t = time.perf_counter()
        response = client.get(f"/api/external/v1/products?page={rng.randint(1, min(pages, 200))}&limit={limit}")
        latencies.append(time.perf_counter() - t)
        assert response.status_code == 200, response.content[:200]
    elapsed = time.perf_counter() - started
    latencies.sort()
    log(
        f"GET /products?limit={limit} on {total:,} products (in-process, 1 client): {requests / elapsed:,.0f} req/s, "
        f"p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--competitors", type=int, default=5)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="observations per ingest call (the API maximum)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--skip", nargs="*", default=[], choices=["engine", "reprice", "ingest", "list"])
    args = parser.parse_args()
    celery_app.conf.task_always_eager = True
    call_command("migrate", verbosity=0)
    log(f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
    tenant = tenant_with_data(args.products, args.competitors)
    if "engine" not in args.skip:
        bench_engine(args.products, args.competitors)
    if "reprice" not in args.skip:
        bench_reprice(tenant, args.products, args.competitors)
    if "list" not in args.skip:
        bench_list(tenant, args.requests, args.limit)
    if "ingest" not in args.skip:
        bench_ingest(tenant, args.products, args.observations, args.batch)


if __name__ == "__main__":
    main()
