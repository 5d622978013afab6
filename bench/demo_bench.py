"""Engine benchmarks on generated demo shops (demo/generator.py): the figures the app benches do not cover.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_demo REDIS_URL=redis://127.0.0.1:6379/9 \\
        python bench/demo_bench.py --sizes 10000 100000

For each size it generates (once; a re-run reuses it) a shop ``bench-demo-<size>.example`` with
10 order lines per product (100,000 products: 1,000,000 lines), then measures through the apps'
services: sort_collection on 1,000 / 10,000 / 100,000-product collections, recommendations for
one product and for all products (the batch path, ``recommend_all --inline``, measured end to end
with the writes), the product index after a one-product write (incremental) against a full build,
category suggestion per product, and the usage flush. ``--parts`` picks some of these.
Prints Markdown; bench/run.py puts it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import django

django.setup()

from django.db import connection  # noqa: E402

from apikeys import usage  # noqa: E402
from apikeys.models import ApiKey  # noqa: E402
from apikeys.services import api_key_create, usage_flush  # noqa: E402
from catalog import category_suggestions, index, recommendation_selectors, recommendation_services  # noqa: E402
from catalog.models import OrderLine, Product  # noqa: E402
from demo.generator import generate  # noqa: E402
from merchandising import services as merchandising_services  # noqa: E402
from merchandising.models import Collection, Recipe, SortRun  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

SORT_COLLECTION_BASE = 410000000
PARTS = ("sort", "recommendations", "suggest", "usage")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def growth(points: list[tuple[int, float]]) -> str:
    """The measured growth between the smallest and the largest size: the exponent k in t ~ n^k."""
    (n1, t1), (n2, t2) = points[0], points[-1]
    if n2 <= n1 or t1 <= 0 or t2 <= 0:
        return "n/a"
    k = math.log(t2 / t1) / math.log(n2 / n1)
    label = (
        "about constant"
        if k < 0.3
        else "sub-linear"
        if k < 0.8
        else "about linear"
        if k < 1.15
        else "n log n"
        if k < 1.35
        else "super-linear"
    )
    return f"x{n2 / n1:g} size -> x{t2 / t1:.1f} time (exponent {k:.2f}: {label})"


def shop(size: int, seed: int) -> Tenant:
    domain = f"bench-demo-{size}.example"
    tenant = Tenant.objects.filter(domain=domain).first() or tenant_create(
        domain=domain, name=domain, plan="enterprise"
    )
    t0 = time.perf_counter()
    report = generate(tenant=tenant, products=size, seed=seed, stdout=io.StringIO(), progress=sys.stderr.isatty())
    took = time.perf_counter() - t0
    lines = OrderLine.objects.for_tenant(tenant).count()
    print(
        f"- shop of {size:,} products, {lines:,} order lines: generated in {took:.1f} s "
        f"({'reused' if not report.order_lines else 'written now: ' + str(report)})"
    )
    return tenant


def bench_sort(tenant: Tenant, sizes: list[int], repeat: int) -> None:
    merchandising_services.recipes_ensure_defaults(tenant=tenant)
    recipe = Recipe.objects.for_tenant(tenant).get(name="Best sellers (30 days)")
    ids = list(
        Product.objects.for_tenant(tenant).order_by("external_id").values_list("external_id", flat=True)[: max(sizes)]
    )
    points = []
    for n in sizes:
        if n > len(ids):
            continue
        cid = SORT_COLLECTION_BASE + n
        merchandising_services.collections_sync(
            tenant=tenant, items=[{"id": cid, "title": f"Bench {n}", "product_ids": ids[:n], "sort_order": "manual"}]
        )
        Collection.objects.for_tenant(tenant).filter(external_id=cid).update(recipe=recipe, enabled=True)
        collection = Collection.objects.for_tenant(tenant).get(external_id=cid)
        times = []
        for _ in range(repeat):
            before = SortRun.objects.filter(collection=collection).count()
            t0 = time.perf_counter()
            # Celery is eager here: the request queues the sort, which runs inline after the commit
            # (read the 30-day metrics, score, order, write every position in one transaction).
            merchandising_services.collection_sort_request(tenant=tenant, collection_id=cid)
            times.append(time.perf_counter() - t0)
            run = SortRun.objects.filter(collection=collection).order_by("-started_at").first()
            assert (
                SortRun.objects.filter(collection=collection).count() == before + 1
                and run.status == SortRun.Status.DONE
            ), run.message
        points.append((n, statistics.median(times)))
        print(f"- sort_collection, {n:,} products: median {ms(points[-1][1])} of {repeat} (request + sort run)")
    if len(points) > 1:
        print(f"- sort_collection growth: {growth(points)}")


def bench_recommendations(tenant: Tenant, size: int, sample: int, all_max: int) -> tuple[int, float, float]:
    t0 = time.perf_counter()
    embedded = index.embeddings_refresh(tenant=tenant, missing_only=True)
    print(
        f"- {size:,} products: embeddings of {embedded:,} products not yet embedded: {time.perf_counter() - t0:.1f} s"
    )
    with connection.cursor() as cursor:
        # statistics for the vectors just bulk-written (autovacuum comes later): without them the planner
        # looks a product's vector up through the tenant index, filtering all 100,000 (35-150 ms a lookup)
        cursor.execute("ANALYZE catalog_productembedding")
    index._product_indexes.clear()
    t0 = time.perf_counter()
    index.product_index(tenant)
    print(f"- {size:,} products: product index build (cold): {time.perf_counter() - t0:.2f} s")
    products = list(Product.objects.for_tenant(tenant).filter(status="active").order_by("external_id"))
    step = max(1, len(products) // sample)
    chosen = products[::step][:sample]
    recommendation_selectors.compute(tenant, chosen[0])  # warm the per-tenant caches
    times = []
    for product in chosen:
        t0 = time.perf_counter()
        recommendation_selectors.compute(tenant, product)
        times.append(time.perf_counter() - t0)
    times.sort()
    median = statistics.median(times)
    print(
        f"- {size:,} products: recommendations for one product (warm, {len(chosen)} products spread over the "
        f"catalog): median {ms(median)}, p95 {ms(times[int(len(times) * 0.95) - 1])}, max {ms(times[-1])}"
    )
    # The index after a one-product write: the delta paths (that product's rows reloaded) against a full build.
    product = chosen[len(chosen) // 2]
    patches = []
    for _ in range(5):  # a write that keeps the product's vector (price, status, category, cluster)
        index.products_changed(tenant, [product.pk])
        t0 = time.perf_counter()
        index.product_index(tenant)
        patches.append(time.perf_counter() - t0)
    reweighs = []
    for name in (product.name + " limited edition", product.name):  # a text change, then undone
        Product.objects.filter(pk=product.pk).update(name=name)
        index.embeddings_refresh(tenant=tenant, product_ids=[product.pk])
        index.products_changed(tenant, [product.pk])
        t0 = time.perf_counter()
        index.product_index(tenant)
        reweighs.append(time.perf_counter() - t0)
    index.products_changed(tenant)
    t0 = time.perf_counter()
    index.product_index(tenant)
    rebuild = time.perf_counter() - t0
    print(
        f"- {size:,} products: product index after a one-product write: median {ms(statistics.median(patches))} "
        f"(same vector: rows patched), {ms(statistics.mean(reweighs))} (text changed: product reloaded, "
        f"catalogue re-weighed) vs {ms(rebuild)} (full rebuild)"
    )
    took = math.nan
    if size <= all_max:
        t0 = time.perf_counter()
        chunks = recommendation_services.recommendations_all(tenant=tenant, inline=True)
        took = time.perf_counter() - t0
        n = Product.objects.for_tenant(tenant).filter(active=True, status="active").count()
        print(
            f"- {size:,} products: recommendations for all {n:,} active products (measured, batch: "
            f"recommend_all --inline, {chunks} chunks, one process, stored): {took:.1f} s, "
            f"{took / max(n, 1) * 1000:.2f} ms per product"
        )
    return size, median, took


def bench_category_suggest(tenant: Tenant, size: int, sample: int) -> None:
    pks = list(
        Product.objects.for_tenant(tenant).filter(category__isnull=True).order_by("pk").values_list("pk", flat=True)
    )[:sample]
    if not pks:
        print(f"- {size:,} products: category suggestion: no uncategorised product left (the bench assigns them)")
        return
    category_suggestions.category_suggestions_compute(
        tenant_id=tenant.pk, product_ids=pks[:1]
    )  # warm: the category index
    t0 = time.perf_counter()
    assigned = category_suggestions.category_suggestions_compute(tenant_id=tenant.pk, product_ids=pks[1:])
    took = time.perf_counter() - t0
    n = max(len(pks) - 1, 1)
    print(
        f"- {size:,} products: category suggestion per product: {ms(took / n)} "
        f"({n} uncategorised products ranked in one batch, {assigned} stored; includes re-embedding the assigned)"
    )


def bench_usage_flush(tenant: Tenant, sizes: list[int], requests_per_key: int) -> None:
    points = []
    for n in sizes:
        keys = list(ApiKey.objects.for_tenant(tenant).filter(name="bench usage").order_by("pk")[:n])
        while len(keys) < n:
            keys.append(api_key_create(tenant=tenant, name="bench usage", permission="read", actor="bench").key)
        usage_flush()  # start from nothing pending
        for key in keys:
            for _ in range(requests_per_key):
                usage.record(
                    key_id=key.pk, lineage_id=str(key.lineage_id), status=200, method="GET", path="/x", ip=None
                )
        usage.write_buffer()  # the web processes' part (every USAGE_BUFFER_SECONDS): not the flush's cost
        t0 = time.perf_counter()
        rows = usage_flush()
        took = time.perf_counter() - t0
        points.append((n, took))
        print(f"- usage flush, {n:,} keys with {requests_per_key} requests each: {rows:,} hour rows in {ms(took)}")
    if len(points) > 1:
        print(f"- usage flush growth (per key-hour bucket): {growth(points)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="shop sizes (products)")
    parser.add_argument("--sort-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--sample", type=int, default=50, help="products timed for one-product recommendations")
    parser.add_argument(
        "--all-max", type=int, default=1_000_000, help="measure recommendations for all products up to this size"
    )
    parser.add_argument("--suggest", type=int, default=50, help="uncategorised products for category suggestion")
    parser.add_argument("--usage-keys", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure (default: everything)"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run the benchmark on PostgreSQL (set DATABASE_URL)")
    sizes = sorted(args.sizes)
    print("### Demo shops (demo/generator.py)\n")
    shops = {size: shop(size, args.seed) for size in sizes}
    largest = shops[sizes[-1]]
    if "sort" in args.parts:
        print(f"\n### sort_collection (shop of {sizes[-1]:,} products, recipe 'Best sellers (30 days)')\n")
        bench_sort(largest, sorted(args.sort_sizes), args.repeat)
    if "recommendations" in args.parts or "suggest" in args.parts:
        print("\n### Recommendations and category suggestion\n")
    if "recommendations" in args.parts:
        points = [bench_recommendations(shops[s], s, args.sample, args.all_max) for s in sizes]
        if len(points) > 1:
            print(f"- recommendations for one product, growth with catalog size: {growth([p[:2] for p in points])}")
            measured = [(n, t) for n, _, t in points if not math.isnan(t)]
            if len(measured) > 1:
                print(f"- recommendations for all products (batch), growth with catalog size: {growth(measured)}")
    if "suggest" in args.parts:
        for size in sizes:
            bench_category_suggest(shops[size], size, args.suggest)
    if "usage" in args.parts:
        print("\n### Usage flush (Redis counters -> hourly rows)\n")
        bench_usage_flush(largest, sorted(args.usage_keys), 10)


if __name__ == "__main__":
    main()
