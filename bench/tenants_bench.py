"""Many tenants: index memory (issue 17). A worker's RSS and its cold and warm latencies with 1,000 tenants.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        python bench/tenants_bench.py [--tenants 1000 --min-products 1000 --max-products 10000] \\
        [--budgets 256 1024] [--requests 3000] [--real-sizes 1000 3000 10000]

Two parts, because 1,000 real shops of 1,000-10,000 products (5.5 million products and their vectors) are
too much to write to PostgreSQL on this machine:

1. Real shops (``--real-sizes``): demo shops written by the demo generator (through the platform syncs; no orders)
   and embedded with the configured embedder, once (a re-run reuses them). For each: a cold
   recommendation (the tenant's index evicted: read the products and vectors, build the index, then
   recommend) against warm ones, through ``catalog.recommendation_selectors.compute``, and where a cold build's
   time goes: SQL (executing and transferring the queries), Python (rows to arrays: ORM rows, the model
   keys, the vectors' bytes) and NumPy (``index._assemble``: TF-IDF, the float64 copy, the lookups).
2. A worker process per budget (``--worker``, a fresh interpreter so its RSS is its own): 1,000 tenants
   with sizes drawn uniformly from 1,000-10,000 products, requests spread over them by a Zipf law (a few
   busy shops, a long tail), each request the warm part of a recommendation (the index from
   ``index.product_index``, one row's similarities, its top 10). A tenant's index is built by the real
   ``index._assemble`` from rows drawn from a pool of generated products embedded with the real embedder;
   only the database read is left out (part 1 measures it). The worker reports its RSS (VmRSS, VmHWM from
   /proc/self/status) before any index and after the run, the cache's figures, and cold/warm latencies
   over the requests after a warm-up. With ``--queues 4`` the worker sees only the tenants of one
   catalogue queue of four (CATALOG_QUEUES routing). Unbounded (budget 0) is run until its RSS reaches
   ``--rss-cap-mb`` and extrapolated to all tenants.

Prints Markdown; ``bench/run.py --only tenants`` puts it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from catalog import index, recommendation_ranking, recommendation_selectors  # noqa: E402
from catalog.models import Product  # noqa: E402
from config.celery import catalog_queue  # noqa: E402
from demo.generator import generate, product_specs  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

POOL = 6000  # generated products embedded once; a simulated tenant's rows are drawn from them
SIM_TENANT_BASE = 900_000_000  # ids of simulated tenants (never saved; only their cache version keys)


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def mb(n_bytes: float) -> str:
    return f"{n_bytes / (1024 * 1024):,.0f} MB"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


# ---- part 1: real shops -----------------------------------------------------------------


def real_shop(size: int) -> Tenant:
    domain = f"bench-tenants-{size}.example"
    tenant = Tenant.objects.filter(domain=domain).first() or tenant_create(
        domain=domain, name=domain, plan="enterprise"
    )
    if Product.objects.for_tenant(tenant).count() < size:
        with open(os.devnull, "w") as quiet:
            generate(tenant=tenant, products=size, seed=size, lines=0, stdout=quiet, progress=False)
    index.embeddings_refresh(tenant=tenant, missing_only=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_productembedding")
    return tenant


class ColdBuildClock:
    """Splits a cold build: SQL (execute_wrapper: executing, and with client-side cursors transferring, each
    query), NumPy (``index._assemble``) and the rest of the build (Python turning rows into arrays)."""

    def __init__(self) -> None:
        self.sql = self.numpy = 0.0

    def sql_wrapper(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql += time.perf_counter() - t0

    def wrap_assemble(self):
        real = index._assemble

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.numpy += time.perf_counter() - t0

        return real, timed


def bench_real(sizes: list[int], cold_runs: int, warm_runs: int) -> list[dict]:
    rows = []
    for size in sizes:
        t0 = time.perf_counter()
        tenant = real_shop(size)
        made = time.perf_counter() - t0
        ids = list(Product.objects.for_tenant(tenant).filter(active=True).values_list("pk", flat=True))
        rng = random.Random(size)
        key = ("product", index._tenant_key(tenant))
        built = index.product_index(tenant)
        nbytes, n = index.index_nbytes(built), len(built.ids)
        cold, build, sql, numpy_ = [], [], [], []
        for _ in range(cold_runs):
            product = Product.objects.get(pk=rng.choice(ids))
            index._indexes.discard(key)  # evicted
            clock = ColdBuildClock()
            real, timed = clock.wrap_assemble()
            index._assemble = timed
            try:
                with connection.execute_wrapper(clock.sql_wrapper):
                    t1 = time.perf_counter()
                    index.product_index(tenant)
                    t2 = time.perf_counter()
            finally:
                index._assemble = real
            recommendation_selectors.compute(tenant, product)
            t3 = time.perf_counter()
            index._indexes.discard(key)
            # the recommendation alone on a warm index, to add to the build: the cold figure is build + this
            cold.append((t2 - t1) + (t3 - t2))
            build.append(t2 - t1)
            sql.append(clock.sql)
            numpy_.append(clock.numpy)
        index.product_index(tenant)
        warm = []
        for _ in range(warm_runs):
            product = Product.objects.get(pk=rng.choice(ids))
            t1 = time.perf_counter()
            recommendation_selectors.compute(tenant, product)
            warm.append(time.perf_counter() - t1)
        b = statistics.median(build)
        rows.append(
            {
                "size": n,
                "made": made,
                "nbytes": nbytes,
                "cold_p50": statistics.median(cold),
                "cold_max": max(cold),
                "build": b,
                "sql": statistics.median(sql),
                "numpy": statistics.median(numpy_),
                "python": max(0.0, b - statistics.median(sql) - statistics.median(numpy_)),
                "warm_p50": pct(warm, 0.5),
                "warm_p99": pct(warm, 0.99),
                "cold_runs": cold_runs,
                "warm_runs": warm_runs,
            }
        )
    return rows


# ---- part 2: the worker process -----------------------------------------------------------


def product_pool(seed: int) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Generated products (the demo generator's names) embedded with the configured embedder."""
    specs = list(product_specs(POOL, random.Random(seed)))
    names = [(s.brand, f"{s.brand} {s.model} {s.colour or ''}".strip()) for s in specs]
    texts = [
        index.product_text(name=name, brand=brand, category=s.leaf.name, description=f"{s.material} {s.model}")
        for (brand, name), s in zip(names, specs, strict=True)
    ]
    return index.embedder().embed(texts).astype(np.float32), names


def simulated_tenants(count: int, lo: int, hi: int, seed: int) -> tuple[list[Tenant], dict[int, int]]:
    rng = random.Random(seed)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    tenants = [Tenant(pk=SIM_TENANT_BASE + i, domain=f"sim-{i}.example", created_at=created) for i in range(count)]
    return tenants, {t.pk: rng.randint(lo, hi) for t in tenants}


def make_builder(sizes: dict[int, int], pool: np.ndarray, names: list[tuple[str, str]]):
    def build(tenant: Tenant, version: int) -> index.ProductIndex:
        """The tenant's rows as ``index._load_rows`` makes them (its Python work: a model key per product),
        drawn from the pool instead of read from the database; then the real ``index._assemble``."""
        n = sizes[tenant.pk]
        rng = np.random.default_rng(tenant.pk)
        picks = rng.integers(0, len(pool), n)
        rows = index._Rows(
            ids=np.arange(tenant.pk * 100_000, tenant.pk * 100_000 + n, dtype=np.int64),
            external_ids=np.arange(1, n + 1, dtype=np.int64),
            eligible=rng.random(n) < 0.95,
            cluster=np.full(n, -1, dtype=np.int64),
            category=rng.integers(1, 40, n).astype(np.int64),
            price=rng.uniform(5, 200, n),
            keys=[recommendation_ranking.model_key(*names[int(p)]) for p in picks],
            raw=pool[picks],  # a copy: each tenant's vectors are its own memory, as when read from the database
        )
        return index._assemble(rows, version)

    return build


def run_worker(args: argparse.Namespace) -> dict:
    settings.CATALOG_INDEX_MEMORY_BUDGET_MB = args.budget
    pool, names = product_pool(args.seed)
    tenants, sizes = simulated_tenants(args.tenants, args.min_products, args.max_products, args.seed)
    if args.queues > 1:  # this worker consumes one catalogue queue of ``queues``
        mine = catalog_queue(tenants[0].pk, args.queues)
        tenants = [t for t in tenants if catalog_queue(t.pk, args.queues) == mine]
    index._build_product_index = make_builder(sizes, pool, names)
    index._indexes.clear()
    baseline = status_kb("VmRSS")
    out: dict = {"budget": args.budget, "queues": args.queues, "tenants": len(tenants), "baseline_kb": baseline}
    rng = random.Random(args.seed + 1)
    if args.budget == 0:  # unbounded: every tenant seen stays; stop at the RSS cap
        t0 = time.perf_counter()
        held = 0
        for tenant in tenants:
            index.product_index(tenant)
            held += 1
            if status_kb("VmRSS") > args.rss_cap_mb * 1024:
                break
        stats = index.cache_stats()
        out.update(
            held=held,
            products_held=sum(sizes[t.pk] for t in tenants[:held]),
            products_all=sum(sizes[t.pk] for t in tenants),
            rss_kb=status_kb("VmRSS"),
            hwm_kb=status_kb("VmHWM"),
            cache_bytes=stats.bytes,
            seconds=time.perf_counter() - t0,
        )
        return out
    order = tenants[:]
    random.Random(args.seed + 2).shuffle(order)  # popularity does not follow size
    weights = [1 / (rank + 1) ** args.zipf for rank in range(len(order))]
    stream = rng.choices(order, weights=weights, k=args.warmup + args.requests)
    cold: list[float] = []
    warm: list[float] = []
    rss_max = 0
    for i, tenant in enumerate(stream):
        misses = index._indexes.stats().misses
        t0 = time.perf_counter()
        idx = index.product_index(tenant)
        sims = idx.similarities([rng.randrange(len(idx.ids))])[0]
        top = np.argpartition(-sims, 10)[:10]
        took = time.perf_counter() - t0
        assert len(top) == 10
        if i >= args.warmup:
            (cold if index._indexes.stats().misses > misses else warm).append(took)
            if i % 50 == 0:
                rss_max = max(rss_max, status_kb("VmRSS"))
    stats = index.cache_stats()
    out.update(
        requests=args.requests,
        rss_kb=status_kb("VmRSS"),
        rss_max_kb=max(rss_max, status_kb("VmRSS")),
        hwm_kb=status_kb("VmHWM"),
        cache_bytes=stats.bytes,
        entries=stats.entries,
        evictions=stats.evictions,
        oversize=stats.oversize,
        cold_n=len(cold),
        warm_n=len(warm),
        cold_p50=pct(cold, 0.5),
        cold_p99=pct(cold, 0.99),
        warm_p50=pct(warm, 0.5),
        warm_p99=pct(warm, 0.99),
        seen=len(set(t.pk for t in stream)),
    )
    return out


def spawn_worker(args: argparse.Namespace, budget: float, queues: int, blas_threads: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--budget", str(budget), "--queues", str(queues)]
    for name in ("tenants", "min_products", "max_products", "requests", "warmup", "seed", "rss_cap_mb", "zipf"):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    env = dict(os.environ)
    if blas_threads:
        env["OPENBLAS_NUM_THREADS"] = blas_threads
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"worker failed ({' '.join(cmd)}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- report -----------------------------------------------------------------------------------


def report(args: argparse.Namespace) -> None:
    ms = 1000
    print("### Many tenants: index memory")
    print()
    print(
        f"Budget: CATALOG_INDEX_MEMORY_BUDGET_MB per process (catalog/index.py); embedder "
        f"{index.backend_name()} ({index.embedder().dim} dimensions)."
    )
    print()
    print(f"Real shops (PostgreSQL), cold = index evicted: read + build + recommend; {args.cold_runs} cold runs each")
    print()
    print("| products | index (kept) | cold p50 | cold max | build: SQL | Python rows | NumPy | warm p50 | warm p99 |")
    print("|---|---|---|---|---|---|---|---|---|")
    real = bench_real(args.real_sizes, args.cold_runs, args.warm_runs)
    for r in real:
        print(
            f"| {r['size']:,} | {mb(r['nbytes'])} ({r['nbytes'] / r['size']:,.0f} B/product) "
            f"| {r['cold_p50'] * ms:,.0f} ms | {r['cold_max'] * ms:,.0f} ms "
            f"| {r['sql'] * ms:,.0f} ms | {r['python'] * ms:,.0f} ms | {r['numpy'] * ms:,.0f} ms "
            f"| {r['warm_p50'] * ms:,.1f} ms | {r['warm_p99'] * ms:,.1f} ms |"
        )
    print()
    total = sum(r["build"] for r in real)
    if total:
        share = {k: sum(r[k] for r in real) / total for k in ("sql", "python", "numpy")}
        top = max(share, key=share.get)
        what = {
            "sql": "the database read of the rows and vectors",
            "python": "turning rows into arrays (ORM rows, model keys, vector bytes)",
            "numpy": "NumPy (TF-IDF, the float64 copy, the lookups)",
        }[top]
        print(
            f"- cold build time: SQL {share['sql']:.0%}, Python rows {share['python']:.0%}, NumPy {share['numpy']:.0%}"
            f" (over all sizes): {what} dominates"
        )
    print()
    print(
        f"Simulated worker: {args.tenants:,} tenants of {args.min_products:,}-{args.max_products:,} products "
        f"(uniform), Zipf({args.zipf}) requests, {args.warmup:,} warm-up then {args.requests:,} measured; "
        "cold = build from the pooled vectors (no database read) + recommend; warm = recommend"
    )
    print()
    print(
        "| budget | tenants routed here | RSS before indexes | RSS after (max) | kept | cold share "
        "| cold p50 | cold p99 | warm p50 | warm p99 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    # the last run again with OpenBLAS on one thread: on a busy machine a warm recommendation's matrix-vector
    # product waits for BLAS worker threads to be scheduled (a worker's prefork children already use the cores)
    runs = [(b, q, None) for q in args.queues for b in args.budgets] + [(args.budgets[-1], 1, "1")]
    for budget, queues, blas in runs:
        w = spawn_worker(args, budget, queues, blas)
        n = w["cold_n"] + w["warm_n"]
        routed = f"{w['tenants']:,}" + (f" (1 of {queues} queues)" if queues > 1 else "")
        print(
            f"| {budget:g} MB{', OPENBLAS_NUM_THREADS=' + blas if blas else ''} | {routed} "
            f"| {w['baseline_kb'] / 1024:,.0f} MB "
            f"| {w['rss_kb'] / 1024:,.0f} MB ({w['rss_max_kb'] / 1024:,.0f}) "
            f"| {w['entries']} tenants, {mb(w['cache_bytes'])} | {w['cold_n'] / n:.0%} "
            f"| {w['cold_p50'] * ms:,.1f} ms | {w['cold_p99'] * ms:,.1f} ms "
            f"| {w['warm_p50'] * ms:,.2f} ms | {w['warm_p99'] * ms:,.2f} ms |"
        )
    w = spawn_worker(args, 0, 1)
    per_product = w["cache_bytes"] / max(w["products_held"], 1)
    rss_per_product = (w["rss_kb"] - w["baseline_kb"]) * 1024 / max(w["products_held"], 1)
    print()
    print(
        f"- unbounded (budget 0, before this change every worker): {w['held']:,} tenants "
        f"({w['products_held']:,} products) in {w['seconds']:.0f} s took RSS from {w['baseline_kb'] / 1024:,.0f} MB "
        f"to {w['rss_kb'] / 1024:,.0f} MB (cache {mb(w['cache_bytes'])}: {per_product:,.0f} B/product counted, "
        f"{rss_per_product:,.0f} B/product of RSS)"
        + (
            f"; stopped at the {args.rss_cap_mb:,} MB cap: all {args.tenants:,} tenants "
            f"({w['products_all']:,} products) would take about {mb(rss_per_product * w['products_all'])}"
            if w["held"] < w["tenants"]
            else ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--min-products", type=int, default=1000)
    parser.add_argument("--max-products", type=int, default=10000)
    parser.add_argument("--budgets", type=float, nargs="+", default=[256, 1024], help="MB")
    parser.add_argument("--queues", type=int, nargs="+", default=[1, 4], help="catalogue queues (routing)")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--zipf", type=float, default=1.0)
    parser.add_argument("--rss-cap-mb", type=int, default=4096, help="where the unbounded run stops")
    parser.add_argument("--real-sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--warm-runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.queues = args.queues[0]
        print(json.dumps(run_worker(args)))
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    report(args)


if __name__ == "__main__":
    main()
