"""Catalog benchmark: platform sync, Sortillus list throughput, recommendations at 100k products.

Run from the repository root (PostgreSQL and Redis recommended, as in production):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_catalog REDIS_URL=redis://127.0.0.1:6379/1 \\
        python bench/catalog_bench.py --products 100000 --orders 100000

It creates (and at the end deletes, unless --keep) a tenant ``bench-catalog.example``.
Numbers are printed; docs/catalog.md lists the last measured ones.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from apikeys.services import api_key_create  # noqa: E402
from catalog import index, recommendation_selectors, recommendation_services, sync  # noqa: E402
from catalog.api import platform_serializers  # noqa: E402
from catalog.gtin import check_digit  # noqa: E402
from catalog.models import Category, Product  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

DOMAIN = "bench-catalog.example"
WORDS = {
    "Tops": ["tee", "shirt", "sweater", "hoodie", "polo", "tank"],
    "Bottoms": ["jeans", "chinos", "shorts", "skirt", "joggers", "leggings"],
    "Shoes": ["sneaker", "boot", "sandal", "loafer", "runner", "slipper"],
    "Kitchen": ["skillet", "knife", "pot", "kettle", "grater", "ladle"],
    "Garden": ["hose", "rake", "shovel", "planter", "shears", "trowel"],
}
ADJ = ["classic", "slim", "organic", "heavy", "light", "vintage", "pro", "compact", "premium", "everyday"]
BRANDS = [f"Brand{i}" for i in range(40)]
COLOURS = ["Red", "Blue", "Black", "White", "Green", "Navy"]


def analyze() -> None:
    """Refresh planner statistics after a bulk load (autovacuum would, some minutes later)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    elapsed = time.perf_counter() - start
    print(f"{label}: {elapsed:.2f} s", flush=True)
    return result, elapsed


def gtin13(n: int) -> str:
    data = f"50{n:010d}"
    return data + str(check_digit(data))


def product_item(pid: int, rng: random.Random) -> dict:
    leaf = list(WORDS)[pid % len(WORDS)]
    noun = WORDS[leaf][(pid // 5) % 6]
    model = f"{BRANDS[(pid // 30) % 40]} {ADJ[(pid // 7) % 10]} {noun} {pid // 6 % 997}"
    colour = COLOURS[pid % 6]
    price = str(10 + rng.randint(0, 190)) + ".00"
    return {
        "id": pid,
        "title": f"{model} {colour}",
        "body_html": f"<p>A {ADJ[pid % 10]} {noun} for everyday use. {leaf} collection.</p>",
        "vendor": BRANDS[(pid // 30) % 40],
        "product_type": leaf,
        "handle": f"p-{pid}",
        "status": "active",
        "tags": "bench",
        "created_at": "2025-01-01T00:00:00Z",
        "image": {"src": f"https://cdn.example.com/{pid}.jpg"},
        "options": [{"name": "Size", "position": 1, "values": ["S", "M", "L"]}],
        "variants": [
            {
                "id": pid * 10 + n,
                "title": size,
                "option1": size,
                "price": price,
                "sku": f"B-{pid}-{size}",
                "barcode": gtin13(pid * 10 + n),
                "inventory_quantity": rng.randint(0, 50),
                "inventory_management": "shopify",
            }
            for n, size in enumerate(["S", "M", "L"])
        ],
    }


class _Timer:
    """Wraps a module function to add up the time spent in it (the service-only part of an HTTP call)."""

    def __init__(self, module, name: str) -> None:
        self.module, self.name, self.total = module, name, 0.0
        self.inner = getattr(module, name)

    def __enter__(self):
        def timed_call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return self.inner(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - t0

        setattr(self.module, self.name, timed_call)
        return self

    def __exit__(self, *exc) -> None:
        setattr(self.module, self.name, self.inner)


class _Statements:
    """Adds up the database time of each statement kind (verb and table) and of the COMMIT while active.

    The COMMIT is where PostgreSQL runs the deferred foreign-key checks, so it is timed on its own
    (Django's atomic() commits through connection.commit(), not through execute wrappers).
    """

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def _add(self, label: str, took: float) -> None:
        self.totals[label] = self.totals.get(label, 0.0) + took
        self.counts[label] = self.counts.get(label, 0) + 1

    def __call__(self, execute, sql, params, many, context):
        words = sql.split()
        verb = words[0].strip("(").upper() if words else "?"
        after = ("INTO", "FROM", "UPDATE")
        pairs = itertools.pairwise(words)
        table = next((w.strip('"(') for prev, w in pairs if prev.upper() in after), "")
        if verb == "SELECT" and " UNION ALL " in sql.upper():
            verb = "SELECT UNION"
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self._add(f"{verb} {table}".strip(), time.perf_counter() - t0)

    def __enter__(self):
        self._commit = connection._commit

        def timed_commit():
            t0 = time.perf_counter()
            try:
                return self._commit()
            finally:
                self._add("COMMIT", time.perf_counter() - t0)

        connection._commit = timed_commit
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._wrapper.__exit__(*exc)
        del connection._commit

    def report(self, calls: int) -> str:
        # the bench's own untimed ANALYZE between calls is not part of a call
        rows = sorted(((k, v) for k, v in self.totals.items() if k != "ANALYZE"), key=lambda kv: -kv[1])
        total = sum(took for _, took in rows)
        parts = [f"{label} {took / calls * 1000:.1f} ms ({self.counts[label] // calls}x)" for label, took in rows[:8]]
        return f"SQL per call {total / calls * 1000:.1f} ms: " + ", ".join(parts)


def _wal_position() -> str | None:
    """PostgreSQL's current WAL position (None elsewhere): the WAL a sync writes is what a replica must replay."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def _wal_bytes(since: str | None) -> float:
    if since is None:
        return float("nan")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [since])
        return float(cursor.fetchone()[0])


def _put_products(client: Client, body: bytes) -> dict:
    response = client.put("/api/platform/v1/products", data=body, content_type="application/json")
    assert response.status_code == 200, response.content[:500]
    result = response.json()
    rejected = [r for r in result["results"] if r["status"] == "rejected"]
    assert not rejected, rejected[:3]
    return result


def bench_sync(tenant: Tenant, key: str, count: int, rng: random.Random, embed: bool = True) -> None:
    """End to end through the HTTP view (django.test.Client PUT with a write key and a JSON body, as a client
    sends it), with the service (catalog.sync.products_sync) and validation (validate_each) parts split out.
    Building and encoding the request bodies is the client's work and is not timed."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    kept: list[bytes] = []  # the first calls' bodies, sent again for the re-sync figures
    elapsed = 0.0
    statements = _Statements()
    calls = 0
    wal = _wal_position()
    with (
        _Timer(sync, "products_sync") as service,
        _Timer(platform_serializers, "validate_each") as validation,
        statements,
    ):
        for start in range(1, count + 1, 1000):
            items = [product_item(pid, rng) for pid in range(start, min(start + 1000, count + 1))]
            body = json.dumps({"products": items}).encode()
            if len(kept) < 10:
                kept.append(body)
            t0 = time.perf_counter()
            result = _put_products(client, body)
            elapsed += time.perf_counter() - t0
            calls += 1
            assert result["counts"]["created"] == len(items), result["counts"]
            if start // 1000 % 20 == 0:
                print(f"  synced {start + len(items) - 1} products", flush=True)
                # Untimed, as autovacuum's ANALYZE is in production (this bench server runs without
                # autovacuum): a catalog growing from 0 to 100,000 products keeps current planner statistics.
                analyze()
    print(
        f"sync {count} products x 3 variants (1000 per call): {elapsed:.1f} s total, "
        f"{count / elapsed:.0f} products/s (end to end through the HTTP view, embedding queued; "
        f"service {service.total:.1f} s, "
        f"validation {validation.total:.1f} s, rest of the request {elapsed - service.total - validation.total:.1f} s)"
    )
    print(f"  create calls, {statements.report(calls)}")
    print(f"  WAL written by the creates: {_wal_bytes(wal) / count / 1024:.1f} KiB per product (3 variants)")
    # What a sync leaves to the workers: embedding the new products (catalog.tasks.products_embed, queued
    # after each call's commit). Timed here in one process; the queued tasks are dropped (they would find
    # nothing left to embed).
    if embed:
        bench_embedding(tenant)
    elif not celery_app.conf.task_always_eager:
        celery_app.control.purge()  # no worker runs here: drop the queued embedding and suggestion tasks
    _bench_resync(client, kept)


def bench_embedding(tenant: Tenant) -> None:
    t0 = time.perf_counter()
    embedded = index.embeddings_refresh(tenant=tenant, missing_only=True)
    took = time.perf_counter() - t0
    if not celery_app.conf.task_always_eager:
        celery_app.control.purge()
    print(
        f"embedding the {embedded} synced products (the worker's part of a sync, one process): {took:.1f} s, "
        f"{embedded / took:.0f} products/s"
    )


def _bench_resync(client: Client, kept: list[bytes]) -> None:
    n = sum(len(json.loads(b)["products"]) for b in kept)
    # The same calls again: nothing changes (no row is written).
    t0 = time.perf_counter()
    for body in kept:
        _put_products(client, body)
    resync = time.perf_counter() - t0
    print(f"re-sync of {n} existing products, identical: {resync:.1f} s, {n / resync:.0f} products/s (end to end)")
    # Again with every variant's inventory changed: every variant row is rewritten.
    bodies = []
    for body in kept:
        data = json.loads(body)
        for item in data["products"]:
            item["variants"] = [dict(v, inventory_quantity=v["inventory_quantity"] + 1) for v in item["variants"]]
        bodies.append(json.dumps(data).encode())
    wal = _wal_position()
    t0 = time.perf_counter()
    for body in bodies:
        _put_products(client, body)
    changed = time.perf_counter() - t0
    changed_wal = _wal_bytes(wal) / n / 1024
    print(
        f"re-sync of {n} existing products, every variant's inventory changed: {changed:.1f} s, "
        f"{n / changed:.0f} products/s (end to end); WAL {changed_wal:.1f} KiB per product"
    )


def bench_orders(tenant: Tenant, count: int, products: int, rng: random.Random) -> None:
    now = timezone.now()
    start_all = time.perf_counter()
    for start in range(0, count, 1000):
        orders = []
        for k in range(start, min(start + 1000, count)):
            a = rng.randint(1, products)
            partner = a + 1 if a < products else 1  # a co-purchase pattern: neighbours go together
            lines = [a, partner] if k % 2 == 0 else [a]
            orders.append(
                {
                    "id": 10_000_000 + k,
                    "created_at": now - timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 1439)),
                    "cancelled_at": None,
                    "line_items": [
                        {
                            "product_id": p,
                            "variant_id": p * 10 + rng.randint(0, 2),
                            "quantity": 1,
                            "price": Decimal("20.00"),
                            "total_discount": Decimal("0"),
                        }
                        for p in lines
                    ],
                }
            )
        sync.orders_sync(tenant=tenant, items=list(enumerate(orders)))
    elapsed = time.perf_counter() - start_all
    print(f"orders sync {count} orders (1000 per call, with daily rollups): {elapsed:.1f} s, {count / elapsed:.0f}/s")


def bench_list(key: str) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    for query in ("per_page=100", "per_page=1000", "per_page=100&aasm_states=new,ready", "per_page=1000&page=50"):
        url = f"/api/v3/products?{query}"
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        print(f"GET {url}: median {median * 1000:.1f} ms ({1 / median:.0f} req/s in one process)")
    response = client.get("/api/v3/products/1")
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        client.get("/api/v3/products/1")
        times.append(time.perf_counter() - t0)
    print(f"GET /api/v3/products/1: median {statistics.median(times) * 1000:.1f} ms")


def bench_recommendations(tenant: Tenant, sample: int, run_all: bool) -> None:
    index._product_indexes.clear()
    timed("index build (cold: load 100k vectors, TF-IDF, metadata)", index.product_index, tenant)
    ids = list(Product.objects.for_tenant(tenant).order_by("?").values_list("pk", flat=True)[:sample])
    products = {p.pk: p for p in Product.objects.filter(pk__in=ids)}
    recommendation_selectors.compute(tenant, products[ids[0]])  # warm caches (category order counts)
    times = []
    for pk in ids:
        t0 = time.perf_counter()
        chosen = recommendation_selectors.compute(tenant, products[pk])
        times.append(time.perf_counter() - t0)
        assert len(chosen) <= 10
    times.sort()
    print(
        f"recommendations for one product (warm, {len(ids)} random products): "
        f"median {statistics.median(times) * 1000:.0f} ms, p95 {times[int(len(times) * 0.95) - 1] * 1000:.0f} ms, "
        f"max {times[-1] * 1000:.0f} ms"
    )
    if run_all:  # demo_bench.py measures this on generated shops of 10,000 and 100,000 products
        t0 = time.perf_counter()
        recommendation_services.recommendations_all(tenant=tenant, inline=True)
        total = Product.objects.for_tenant(tenant).count()
        print(f"recommendations for all {total} products (batch, one process): {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200, help="products timed for recommendations")
    parser.add_argument("--all", action="store_true", help="also compute recommendations for every product (the batch)")
    parser.add_argument("--keep", action="store_true", help="keep the bench tenant afterwards")
    parser.add_argument("--sync-only", action="store_true", help="only the product and order sync parts")
    parser.add_argument("--no-embed", action="store_true", help="skip timing the workers' embedding of the sync")
    args = parser.parse_args()
    print(f"database: {settings.DATABASES['default']['ENGINE']}, cache: {settings.CACHES['default']['BACKEND']}")
    Tenant.objects.filter(domain=DOMAIN).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the previous run's rows, dead: autovacuum is off on the bench server
            cursor.execute("VACUUM ANALYZE")
    tenant = tenant_create(domain=DOMAIN, name="Bench", plan="enterprise")
    key = api_key_create(tenant=tenant, name="bench", permission="admin", rate_limit=10**9).plaintext
    rng = random.Random(1)
    try:
        for leaf_id, leaf in enumerate(WORDS, start=1):
            Category.objects.create(
                tenant=tenant,
                external_id=leaf_id,
                level=1,
                full_external_id=f"L1_{leaf_id}",
                name=leaf,
                en_name=leaf,
                en_description=" ".join(WORDS[leaf]),
            )
        bench_sync(tenant, key, args.products, rng, embed=not args.no_embed)
        cats = {c.en_name: c.pk for c in Category.objects.for_tenant(tenant)}
        for leaf, pk in cats.items():  # assign categories in bulk (suggestion is benchmarked by its own tests)
            Product.objects.for_tenant(tenant).filter(product_type=leaf).update(category_id=pk, state="ready")
        index.products_changed(tenant)
        analyze()
        bench_orders(tenant, args.orders, args.products, rng)
        analyze()
        if not args.sync_only:
            bench_list(key)
            bench_recommendations(tenant, args.sample, args.all)
    finally:
        if not args.keep:
            Tenant.objects.filter(pk=tenant.pk).delete()


if __name__ == "__main__":
    main()
