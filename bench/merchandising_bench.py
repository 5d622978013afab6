"""Benchmark of the merchandising app (not part of the test run).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_merchandising REDIS_URL=redis://127.0.0.1:6379/2 \
        /work/main/.venv/bin/python manage.py migrate
    DATABASE_URL=... REDIS_URL=... /work/main/.venv/bin/python bench/merchandising_bench.py [--products 10000]
        [--lines 1000000] [--days 365] [--requests 300]

Builds (once; reused on later runs) a shop with N products (one variant each) in one collection and
``--lines`` order lines spread over ``--days`` days, rolled up into daily sales per variant and day
as catalog's rollup does (the sort reads only the rollup, so the order lines themselves are
generated in memory and not stored). Then measures:

1. ``sort_collection`` end to end: the API call that queues it plus the sort itself (run inline
   here: reading metrics, scoring, writing every position in one transaction);
2. the pure engine alone on 10k and 100k products (how it grows);
3. throughput of ``list_collections`` and ``get_collection`` through the full request stack
   (key lookup, rate limit, usage, serialization) in one process.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from apikeys.services import api_key_create  # noqa: E402
from apikeys.tokens import KeyKind  # noqa: E402
from catalog.models import DailySales, Product, Variant  # noqa: E402
from merchandising import selectors, sorting  # noqa: E402
from merchandising.models import Collection, CollectionProduct, Recipe, SortRun  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

DOMAIN = "bench-merchandising.example"
COLLECTION_ID = 777000001


def build(n_products: int, n_lines: int, days: int, seed: int = 7) -> Tenant:
    tenant = Tenant.objects.filter(domain=DOMAIN).first()
    if tenant is not None:
        if (
            Product.objects.for_tenant(tenant).count() == n_products
            and DailySales.objects.for_tenant(tenant).exists()
            and Collection.objects.for_tenant(tenant).filter(external_id=COLLECTION_ID).exists()
        ):
            return tenant
        tenant.delete()
    t0 = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with transaction.atomic():
        tenant = tenant_create(domain=DOMAIN, name="Bench merchandising")
        Product.objects.bulk_create(
            [
                Product(
                    tenant=tenant,
                    external_id=i + 1,
                    name=f"Product {rng.randrange(10**6):06d}",
                    created_at=now - timedelta(days=rng.randrange(700)),
                )
                for i in range(n_products)
            ],
            batch_size=5000,
        )
        products = list(Product.objects.for_tenant(tenant).order_by("external_id").values_list("pk", flat=True))
        Variant.objects.bulk_create(
            [
                Variant(
                    tenant=tenant,
                    product_id=pk,
                    external_id=i + 1,
                    price=rng.randrange(500, 20000) / 100,
                    compare_at_price=None if rng.random() < 0.6 else rng.randrange(20000, 30000) / 100,
                    cost=None if rng.random() < 0.2 else rng.randrange(100, 500) / 100,
                    inventory_quantity=0 if rng.random() < 0.1 else rng.randrange(1, 200),
                )
                for i, pk in enumerate(products)
            ],
            batch_size=5000,
        )
        variants = dict(Variant.objects.for_tenant(tenant).values_list("product_id", "pk"))
        # order lines: product popularity is heavy-tailed (Zipf-like), dates uniform over the window
        weights = [1 / (rank + 1) ** 1.1 for rank in range(n_products)]
        order = products[:]
        rng.shuffle(order)
        picks = rng.choices(order, weights=weights, k=n_lines)
        rolled: Counter = Counter()
        for pk in picks:
            rolled[(pk, rng.randrange(days))] += rng.choice((1, 1, 1, 2, 3))
        today = now.date()
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {DailySales._meta.db_table} (tenant_id, product_id, variant_id, date, units, revenue, discount) "
                "FROM STDIN"
            ) as copy,
        ):
            for (pk, day), units in rolled.items():
                copy.write_row((tenant.pk, pk, variants[pk], today - timedelta(days=day), units, units * 20, 0))
        collection = Collection.objects.create(
            tenant=tenant, external_id=COLLECTION_ID, title="Everything", enabled=True
        )
        shuffled = products[:]
        rng.shuffle(shuffled)
        CollectionProduct.objects.bulk_create(
            [
                CollectionProduct(tenant=tenant, collection=collection, product_id=pk, position=i)
                for i, pk in enumerate(shuffled)
            ],
            batch_size=5000,
        )
        # a few more collections so list_collections has a page to list
        Collection.objects.bulk_create(
            [Collection(tenant=tenant, external_id=COLLECTION_ID + i, title=f"C{i}") for i in range(1, 50)]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"built {n_products} products, {n_lines} order lines -> {len(rolled)} daily sales rows over {days} days "
        f"in {time.perf_counter() - t0:.1f}s"
    )
    return tenant


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def fmt(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.0f} ms, min {min(samples) * 1000:.0f} ms (n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run the benchmark on PostgreSQL (set DATABASE_URL)")
    settings.MERCHANDISING_RATE_LIMIT = (10**9, 60)  # measure the stack, not the limiter's refusal
    for name in ("celery", "merchandising", "kombu"):
        logging.getLogger(name).setLevel(logging.WARNING)
    tenant = build(args.products, args.lines, args.days)
    collection = Collection.objects.for_tenant(tenant).get(external_id=COLLECTION_ID)
    for name, days in [("bench 365 days", "365"), ("bench 30 days", "30")]:
        recipe, _ = Recipe.objects.get_or_create(
            tenant=tenant,
            name=name,
            defaults={
                "days": days,
                "weight_sales": 50,
                "weight_revenue": 20,
                "weight_margin": 15,
                "weight_newness": 15,
            },
        )
    key = api_key_create(tenant=tenant, name="bench", permission="admin", kind=KeyKind.STANDARD)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}")

    print(f"\n== sort_collection, {args.products} products, daily sales from {args.lines} lines / {args.days} days")
    for name in ["bench 365 days", "bench 30 days"]:
        recipe = Recipe.objects.get(tenant=tenant, name=name)
        Collection.objects.filter(pk=collection.pk).update(recipe=recipe, enabled=True)

        def sort_end_to_end():
            # tasks are eager here: the request queues the sort and, once committed, the sort runs
            # inline (read metrics, score, write every position in one transaction)
            before = SortRun.objects.filter(collection=collection).count()
            response = client.post(
                "/api/v1/", {"action": "sort_collection", "collection_id": COLLECTION_ID}, format="json"
            )
            assert response.status_code == 200, response.content
            assert SortRun.objects.filter(collection=collection).count() == before + 1

        print(f"recipe window {recipe.days:>3} days: end to end {fmt(timed(sort_end_to_end, 5))}")
        t = timed(lambda r=recipe: selectors.collection_facts(collection=collection, days=r.days), 3)
        print(f"   of which reading metrics (3 queries): {fmt(t)}")

    print("\n== engine alone (pure Python, no database)")
    rng = random.Random(1)
    for n in (10_000, 100_000):
        now = datetime.now(UTC)
        facts = [
            sorting.ProductFacts(
                product_id=i,
                title=f"P{i}",
                created_at=now - timedelta(days=rng.randrange(700)),
                sold_out=rng.random() < 0.1,
                boost=0,
                metrics={
                    "sales": float(int(rng.paretovariate(1.2))),
                    "revenue": rng.random() * 1000,
                    "margin": rng.random(),
                    "newness": float(rng.randrange(700)),
                    "inventory": None,
                    "discount": 0.0,
                },
            )
            for i in range(n)
        ]
        weights = {"sales": 50, "revenue": 20, "margin": 15, "newness": 15}
        current = [f.product_id for f in facts]
        t_score = timed(lambda f=facts, w=weights: sorting.recipe_order(f, w), 3)
        new, _ = sorting.recipe_order(facts, weights)
        t_moves = timed(lambda c=current, nw=new: sorting.moved_items(c, nw), 3)
        print(f"{n:>7} products: score+order {fmt(t_score)}; move plan (LIS) {fmt(t_moves)}")

    print(f"\n== throughput, one process, {args.requests} sequential requests each")
    for label, body in [
        ("list_collections", {"action": "list_collections"}),
        ("get_collection (250 products)", {"action": "get_collection", "collection_id": COLLECTION_ID}),
        ("get_collection (1000 products)", {"action": "get_collection", "collection_id": COLLECTION_ID, "limit": 1000}),
    ]:
        for _ in range(5):
            client.post("/api/v1/", body, format="json")
        t0 = time.perf_counter()
        for _ in range(args.requests):
            response = client.post("/api/v1/", body, format="json")
            assert response.status_code == 200
        elapsed = time.perf_counter() - t0
        print(f"{label:<32} {args.requests / elapsed:7.1f} req/s  ({elapsed / args.requests * 1000:.1f} ms each)")


if __name__ == "__main__":
    main()
