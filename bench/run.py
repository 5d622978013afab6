#!/usr/bin/env python
"""Run the benchmark suite and update docs/benchmarks.md.

    make bench                       # everything, shops of 100,000 and 1,000,000 products (BENCH_SIZES)
    .venv/bin/python bench/run.py --quick      # smaller data, shorter HTTP runs
    .venv/bin/python bench/run.py --only http  # just the HTTP part
    .venv/bin/python bench/run.py --only tenants  # just bench/tenants_bench.py, its section replaced in place
    .venv/bin/python bench/run.py --quick --report /tmp/b.md  # a trial run into a copy (cp docs/benchmarks.md)

Needs PostgreSQL and Redis (defaults: postgres://postgres@127.0.0.1:5432/bench,
redis://127.0.0.1:6379/5; the database is created if missing) and wrk
(installed with apt-get when missing and running as root).

HTTP: gunicorn (sync, -w 2) serves the platform on 127.0.0.1; wrk (-t2 -c16)
measures an authenticated, rate-limit-checked read on each surface beside a
bare Django view doing the same single-row query, in the same run.
Engines: each bench/<app>_bench.py is run as a script; what it prints (Markdown)
goes into the report under its own heading. Only the sections a run produces
are replaced (``splice``): hand-written sections and other scripts' blocks
between ``<!-- name: begin -->`` / ``<!-- name: end -->`` markers stay.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"
PORT = 8099


@dataclass
class HttpResult:
    name: str
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    note: str = ""


def sh(cmd: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, text=True, **kwargs)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        return shutil.which("wrk") or "wrk"
    raise SystemExit("wrk is needed for the HTTP benchmark: apt-get install wrk")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    system = f"{platform.platform()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {system}, {pg}"


def _shop_size(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        try:
            row = conn.execute(
                "SELECT count(*) FROM catalog_product p JOIN tenants_tenant t ON t.id = p.tenant_id "
                "WHERE t.domain = 'demo.myshopify.com'"
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0])


def prepare(env: dict[str, str], products: int, lines: int | None = None) -> dict:
    """Seed the demo shop and return the keys and ids the HTTP benchmark uses.

    A shop already that big (an earlier run on this database) is measured as it is: re-seeding a
    1,000,000-product shop takes minutes and changes nothing the HTTP part reads."""
    sh([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], env)
    if _shop_size(env["DATABASE_URL"]) < products:
        sh(
            # the demo generator (demo/generator.py), with orders and competitors
            [
                sys.executable,
                *("manage.py", "seed_demo", "--products", str(products), "--allow-production"),
                *(("--lines", str(lines)) if lines is not None else ()),
            ],
            env,
            stdout=subprocess.DEVNULL,
        )
    # The steady state autovacuum reaches after a bulk load: the visibility map set, so the list pages' key
    # subqueries are index-only scans (right after the load every index entry is checked against the table).
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) catalog_product")
    script = r"""
import json
from apikeys.services import api_key_create
from catalog.models import Product
from tenants.models import Tenant
tenant = Tenant.objects.get(domain="demo.myshopify.com")
key = api_key_create(tenant=tenant, name="bench", permission="admin", rate_limit=1_000_000_000, rate_limit_window=60)
product = Product.objects.for_tenant(tenant).order_by("external_id").first()
collection_id = None
try:
    from merchandising.models import Collection
    first = Collection.objects.for_tenant(tenant).order_by("id").first()
    collection_id = first.external_id if first else None
except Exception:
    pass
print(json.dumps({"tenant_id": tenant.pk, "key": key.plaintext, "product": product.external_id if product else None,
                  "collection": collection_id, "products": Product.objects.for_tenant(tenant).count()}))
"""
    out = sh([sys.executable, "manage.py", "shell", "-c", script], env, capture_output=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def wrk(url: str, key: str | None, seconds: int, body: dict | None = None) -> HttpResult:
    lua = None
    cmd = [ensure_wrk(), "-t2", "-c16", f"-d{seconds}s", "--latency"]
    if key:
        cmd += ["-H", f"Authorization: Bearer {key}"]
    if body is not None:
        lua = ROOT / "var" / f"wrk-{os.getpid()}.lua"
        lua.write_text(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
        )
        cmd += ["-s", str(lua)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if lua:
        lua.unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(label: str) -> float | None:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return None
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return HttpResult("", rps, pct("50"), pct("99"), f"{non2xx.group(1)} non-2xx" if non2xx else "")


def probe(url: str, key: str, body: dict | None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:  # a timeout or a worker killed mid-request: reported as not measured, the run goes on
        return 0


SAME_PREFIX = "bare Django view,"


def http_bench(env: dict[str, str], ids: dict, seconds: int) -> list[HttpResult]:
    base = f"http://127.0.0.1:{PORT}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "DEBUG": "0"},
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        pid, key = ids["product"], ids["key"]
        same = f"/bench/same/{{}}/{ids['tenant_id']}/{pid}"
        cases: list[tuple[str, str, dict | None]] = [
            ("bare Django view, same single-row query", f"/bench/bare/{ids['tenant_id']}/{pid}", None),
            ("Sortillus GET /api/v3/products/:id", f"/api/v3/products/{pid}", None),
            (f"{SAME_PREFIX} Sortillus detail's queries", same.format("sortillus"), None),
            ("ShopiSync GET /api/external/v1/products/:id", f"/api/external/v1/products/{pid}", None),
            (f"{SAME_PREFIX} ShopiSync detail's queries", same.format("shopisync"), None),
            ("Dynasort get_product", "/api/v1/", {"action": "get_product", "product_id": pid}),
            (f"{SAME_PREFIX} Dynasort get_product's queries", same.format("dynasort"), None),
            ("Sortillus GET /api/v3/products?per_page=50", "/api/v3/products?per_page=50", None),
            ("Sortillus GET /api/v3/products?per_page=50&page=50", "/api/v3/products?per_page=50&page=50", None),
            ("Sortillus GET /api/v3/products?per_page=50&page=1000", "/api/v3/products?per_page=50&page=1000", None),
            ("ShopiSync GET /api/external/v1/products?limit=50", "/api/external/v1/products?limit=50", None),
            (
                "ShopiSync GET /api/external/v1/products?limit=50&page=50",
                "/api/external/v1/products?limit=50&page=50",
                None,
            ),
            (
                "ShopiSync GET /api/external/v1/products?limit=50&page=1000",
                "/api/external/v1/products?limit=50&page=1000",
                None,
            ),
            ("Dynasort list_collections", "/api/v1/", {"action": "list_collections"}),
            ("Platform GET /api/platform/v1/keys", "/api/platform/v1/keys", None),
        ]
        results = []
        for name, path, body in cases:
            status = probe(base + path, key, body)
            if status != 200:
                results.append(HttpResult(name, None, None, None, f"not measured: HTTP {status}"))
                continue
            result = wrk(base + path, key if not path.startswith("/bench/") else None, seconds, body)
            result.name = name
            results.append(result)
            print(f"  {name}: {result.rps:.0f} req/s", flush=True)
        return results
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


PROFILE_SCRIPT = r"""
import cProfile, json, os, pstats, time
from django.db import connection
from django.test import Client
import redis
from apikeys.services import api_key_create
from tenants.models import Tenant
ids = json.loads(os.environ["BENCH_IDS"])
tenant = Tenant.objects.get(pk=ids["tenant_id"])
key = api_key_create(tenant=tenant, name="bench profile", permission="admin", rate_limit=1_000_000_000,
                     rate_limit_window=60)
client = Client(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}", HTTP_HOST="127.0.0.1")
counts = {"sql": 0, "redis": 0}
def count_sql(execute, sql, params, many, context):
    counts["sql"] += 1
    return execute(sql, params, many, context)
for cls, name in ((redis.client.Redis, "execute_command"), (redis.client.Pipeline, "execute")):
    original = getattr(cls, name)
    def wrapped(self, *a, _original=original, **k):
        counts["redis"] += 1
        return _original(self, *a, **k)
    setattr(cls, name, wrapped)
pid = ids["product"]
cases = [("bare Django view", f"/bench/bare/{tenant.pk}/{pid}", None),
         ("Sortillus GET /api/v3/products/:id", f"/api/v3/products/{pid}", None),
         ("ShopiSync GET /api/external/v1/products/:id", f"/api/external/v1/products/{pid}", None),
         ("Dynasort get_product", "/api/v1/", {"action": "get_product", "product_id": pid})]
def call(path, body):
    if body is None:
        return client.get(path)
    return client.post(path, body, content_type="application/json")
n = 200
print("| endpoint (in-process, one client, no HTTP server) | ms per request | SQL queries | Redis round trips |")
print("|---|---|---|---|")
profiles = {}
for name, path, body in cases:
    for _ in range(20):
        call(path, body)
    with connection.execute_wrapper(count_sql):
        counts.update(sql=0, redis=0)
        call(path, body)
        sql, rt = counts["sql"], counts["redis"]
    t0 = time.perf_counter()
    for _ in range(n):
        call(path, body)
    print(f"| {name} | {(time.perf_counter() - t0) / n * 1000:.2f} | {sql} | {rt} |")
    if name.startswith("Sortillus"):
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(n):
            call(path, body)
        profile.disable()
        profiles[name] = profile
for name, profile in profiles.items():
    print(f"\ncProfile of {n} x {name}, project and database functions by cumulative time:\n\n```")
    stats = pstats.Stats(profile)
    rows = []
    for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        keep = ("/apikeys/" in file or "/catalog/" in file or "/config/" in file or "psycopg/cursor" in file
                or "redis/client" in file or "rest_framework/serializers" in file or "sql/compiler" in file)
        if keep and "site-packages/django/core" not in file:
            rows.append((ct, nc, f"{file.split('/')[-2]}/{file.split('/')[-1]}:{line}({func})"))
    for ct, nc, label in sorted(rows, reverse=True)[:18]:
        print(f"{ct / n * 1000:8.2f} ms/request  {nc // n:>4} calls/request  {label}")
    print("```")
"""


def profile_http(env: dict[str, str], ids: dict) -> str:
    """Where an authenticated read spends its time: per-request cost, queries, Redis calls, and a cProfile."""
    proc = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROFILE_SCRIPT],
        cwd=ROOT,
        env={**env, "DEBUG": "0", "BENCH_IDS": json.dumps(ids)},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return f"profile failed:\n```\n{proc.stderr.strip()[-2000:]}\n```"
    # drop the shell's banner ("N objects imported automatically")
    return "\n".join(line for line in proc.stdout.strip().splitlines() if "imported automatically" not in line).strip()


HTTP_NOTE = (
    "What dominates: round trips and the request stack. Since issue 17 each detail read is one SQL statement "
    "(the product's columns, joined category/cluster, settings or setting, and its related lists as JSON "
    "arrays: recommendations and GTINs, competitors and the last price changes, options with sort rules and "
    "variants; catalog/pricing/merchandising selectors' product detail SQL), run as a raw statement with no "
    "queryset to compile; the 'same queries' bare views (bench/urls.py) run the same statement and build the "
    "same objects. A surface read is then one Redis round trip (the rate-limit EVALSHA, which also checks the "
    "key cache's generation) and one database statement; the bare one-row view is Django's connection health "
    "check and its query. What is left between a surface and its bare twin is the platform's request stack "
    "(key cache, rate limit, usage buffer, DRF, the surface's serializer and error envelope), in the profile "
    "above. Lists: the unfiltered totals (Sortillus total_count/total_pages, ShopiSync total/totalPages, "
    "Dynasort's product_count per collection) are counters kept by database triggers in the writing "
    "statement's transaction (catalog/counters.py, manage.py recount --check), and a page is one statement "
    "whose keys come from the ordering's index with OFFSET (index-only, a deferred join): its cost does not "
    "depend on the shop's size, and grows with the page number only by the index entries OFFSET skips."
)


# Data sizes per engine benchmark: the sizes, and a quick variant for a smoke run.
ENGINE_ARGS: dict[str, dict[str, list[str]]] = {
    # generated demo shops of 10k and 100k products (10 order lines each): sort_collection at 1k/10k/100k,
    # recommendations for one and for all products, category suggestion, usage flush
    "demo_bench.py": {
        "full": ["--sizes", "10000", "100000"],
        "quick": [
            "--sizes",
            "1000",
            "5000",
            "--sort-sizes",
            "1000",
            "5000",
            "--sample",
            "20",
            "--all-max",
            "1000",
            "--suggest",
            "20",
            "--usage-keys",
            "20",
            "200",
            "--repeat",
            "2",
        ],
    },
    # 1,000 simulated tenants per worker budget, plus real shops of 1k/3k/10k products (bench/tenants_bench.py)
    "tenants_bench.py": {
        "full": [],
        "quick": ["--requests", "400", "--warmup", "200", "--real-sizes", "1000", "3000", "--rss-cap-mb", "2048"],
    },
    "catalog_bench.py": {
        "full": ["--products", "100000", "--orders", "100000"],
        "quick": ["--products", "5000", "--orders", "5000", "--sample", "50"],
    },
    "merchandising_bench.py": {
        "full": ["--products", "10000", "--lines", "1000000"],
        "quick": ["--products", "2000", "--lines", "100000", "--requests", "50"],
    },
    "pricing_bench.py": {
        "full": ["--products", "100000", "--competitors", "5", "--observations", "1000000"],
        "quick": ["--products", "5000", "--competitors", "5", "--observations", "50000", "--requests", "50"],
    },
    # the store writeback's move plan against moving items one by one (pure Python, no database)
    "writeback_moves_bench.py": {"full": ["--sizes", "1000", "10000", "50000"], "quick": ["--sizes", "1000", "10000"]},
}

# What each engine benchmark measures, how it grows and what dominates its cost (from profiles of these
# runs; see the report's notes). Written under the benchmark's output.
NOTES: dict[str, str] = {
    "catalog_bench.py": (
        "Sync throughput (products/s) is measured end to end: a PUT of 1,000 Shopify products (3 variants each) "
        "through the HTTP view with a write key, as a client sends it. Linear in the batch: an acceptance check "
        "compiled from the DRF serializers' declarations (apikeys/input.py; an item it does not take goes to the "
        "serializers themselves, which keep the error bodies) and then one INSERT ... ON CONFLICT DO UPDATE per "
        "table (products, options, variants, GTINs) with each column bound as one array (unnest), written only "
        "for rows that are new or changed; an identical re-sync reads 4 times and writes nothing. What dominates "
        "a create call (the bench times every statement and the COMMIT, printed under the sync line): the "
        "COMMIT, where PostgreSQL runs the deferred foreign-key checks (about 15,000 per call: each option, "
        "variant and GTIN row checks its tenant and product, each product its tenant; with the checks switched "
        "off for a measurement, session_replication_role = replica, the COMMIT went from 112 to 8 ms per call "
        "and SQL per call from 294 to 138 ms), then the four INSERTs (their B-tree inserts; the single-column "
        "indexes that composite ones covered are gone, catalog 0009), then Python: validation, building the "
        "arrays, JSON. Removing the per-row checks without losing the invariant needs a schema change not made "
        "here: statement-level triggers with transition tables checking each child statement's rows against "
        "their products in one join (and product deletes against their children), or composite (tenant, product) "
        "foreign keys that halve the checks. The WAL figure swings (full-page images after each checkpoint). "
        "Embedding the new products is queued to a worker after the commit (catalog.tasks.products_embed) and "
        "timed separately above. Recommendations for one product: one cosine over the tenant's product vectors "
        "(numpy, linear in catalog size) plus the co-purchase query over the product's order lines."
    ),
    "merchandising_bench.py": (
        "sort_collection: reading the window's metrics from DailySales (linear in the collection's sales rows), "
        "scoring and sorting (n log n, pure Python), the longest-increasing-subsequence move plan (n log n), and "
        "writing every changed position (linear): at 10k products the metric queries and position writes dominate."
    ),
    "pricing_bench.py": (
        "Repricing is linear in the auto-repriced products. A first run over 100,000 is about half database writes "
        "(variant prices and settings with the decision, one UPDATE ... FROM unnest(arrays) each per chunk, about "
        "2 s each; price history by COPY) and half Python (the engine, two JSON dumps per change, building offers). "
        "A product whose inputs (rules, price, cost, each offer's price, stock and staleness) match those its price "
        "was decided under is skipped, so a run with nothing changed only reads: about 1 ms of SQL per 1,000 "
        "settings and variants and 7 ms per 5,000 offers, plus a digest per product. The latest offer per "
        "competitor is kept on the competitor row at ingestion, so repricing never reads the observation history. "
        "Ingestion is linear in observations: a fixed 7 statements per batch of 1,000 (INSERT ... ON CONFLICT DO "
        "NOTHING RETURNING tells which are new), about 50 ms of SQL, mostly the observation insert and the "
        "competitor update, with about as much again in Python."
    ),
    "demo_bench.py": (
        "sort_collection is measured end to end through the service on generated shops (Zipf sales, 10 lines per "
        "product); growth is the measured exponent between the smallest and largest collection. Category "
        "suggestion per product: embedding the product text and one cosine over the (few dozen) category vectors, "
        "then the save and re-embedding of that product: constant in catalog size once ProductEmbedding has "
        "planner statistics (the bench ANALYZEs it after embedding the catalog; before that a lookup filtered all "
        "100,000 vectors of the tenant, 35-150 ms). Recommendations for one product: the co-purchase counts of the "
        "product's orders (one query), the cached per-shop order and category statistics, and one cosine over "
        "the tenant's product vectors (numpy, linear in catalog size). For all products "
        "(catalog.recommendation_services recommendations_all, measured, not extrapolated): chunks of products "
        "ordered by category, co-purchase "
        "counts for a whole chunk in one query, similarities as one matrix product per block of 128 products "
        "against only the rows they read (their category, complementary categories, same-model rows), the same "
        "ranking as one product (a test checks they agree), results written by COPY: n x the category's size, "
        "about n^2 / categories. The product index after a one-product write patches that product's rows (or "
        "re-weighs the matrix when its text changed) instead of rebuilding. Usage flush: linear in the "
        "(key, hour) buckets pending in Redis (one pipelined read, one bulk upsert, one UPDATE per key for "
        "last_used_at)."
    ),
    "writeback_moves_bench.py": (
        "pure Python, no database. The plan (`merchandising.sorting.reorder_moves`) takes the fewest moves "
        "(n - |LIS|, the same products `moved_items` counts) and computes each `newPosition` under Shopify's "
        "sequential semantics with a Fenwick tree, O(n log n); moving the products in a list one by one to find "
        "the positions grows as O(n x moves). The bench asserts both give the same moves. A typical re-sort (the "
        "top 20 changed) needs 20 moves: one call."
    ),
}


def engine_benches(
    env: dict[str, str], quick: bool, only: list[str] | None = None, on_section=None
) -> list[tuple[str, str]]:
    """Run each bench/*_bench.py (the ENGINE_ARGS order first: the issue's targets early) and collect its output."""
    sections: list[tuple[str, str]] = []
    found = {p.name: p for p in (ROOT / "bench").glob("*_bench.py")}
    order = [n for n in ENGINE_ARGS if n in found] + sorted(set(found) - set(ENGINE_ARGS))
    for script in (found[n] for n in order if not only or n in only):
        print(f"running {script.name}", flush=True)
        args = [sys.executable, str(script), *ENGINE_ARGS.get(script.name, {}).get("quick" if quick else "full", [])]
        proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
        output = proc.stdout.lstrip("\n").rstrip()  # the first line's indentation kept (right-aligned tables)
        text = f"`{' '.join(['python', *args[1:]]).replace(str(ROOT) + '/', '')}`\n\n```\n{output}\n```"
        if proc.returncode != 0:
            text += f"\n\nFAILED (exit {proc.returncode}):\n```\n{proc.stderr.strip()[-2000:]}\n```"
        if script.name in NOTES:
            text += f"\n\nGrowth and what dominates: {NOTES[script.name]}"
        sections.append((script.name, text))
        if on_section is not None:
            on_section(sections)  # the report grows as the run goes: a long run leaves what it measured
    return sections


def _number(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text)
    return float(m.group(1).replace(",", "")) if m else None


def targets(http: list[HttpResult], engines: list[tuple[str, str]]) -> list[str]:
    """The issue's targets against this run's figures (found in the sections above)."""
    text = "\n".join(t for _, t in engines)
    bare = next((r.rps for r in http if r.name.startswith("bare") and r.rps), None)
    reads = [r.rps / bare for r in http if bare and r.rps and r.name.endswith((":id", "get_product"))]
    rows = [
        ("authenticated read >= 60% of the bare view's throughput", min(reads) if reads else None, 0.6, ">=", "{:.2f}"),
        (
            "sort_collection at 10,000 products < 1 s",
            _number(r"sort_collection, 10,000 products: median ([\d,.]+) ms", text),
            1000,
            "<",
            "{:,.0f} ms",
        ),
        (
            "one product's recommendations, 100,000 products < 100 ms",
            _number(r"100,000 products: recommendations for one product[^\n]*median ([\d,.]+) ms", text),
            100,
            "<",
            "{:,.1f} ms",
        ),
        (
            "sync >= 5,000 products/s",
            _number(r"sync \d+ products[^\n]*?([\d,.]+) products/s", text),
            5000,
            ">=",
            "{:,.0f}/s",
        ),
        (
            "repricing 100,000 products < 30 s",
            _number(r"reprice: 100,000 products[^\n]* in ([\d.]+) s", text),
            30,
            "<",
            "{:.1f} s",
        ),
    ]
    lines = ["## Targets (issue 6)", "", "| target | this run | met |", "|---|---|---|"]
    for label, value, limit, op, fmt in rows:
        if value is None:
            lines.append(f"| {label} | not measured at this size in this run | - |")
            continue
        met = value >= limit if op == ">=" else value < limit
        lines.append(f"| {label} | {fmt.format(value)} | {'yes' if met else 'NO'} |")
    return [*lines, ""]


def growth_table(growth: dict[int, list[HttpResult]]) -> list[str]:
    """Each endpoint's throughput and ratio to the bare view at every shop size of this run."""
    sizes = sorted(growth)
    head = " | ".join(f"{n:,} products: req/s, ratio" for n in sizes)
    lines = [
        "### Growth with the shop's size",
        "",
        f"The same endpoints on demo shops of {' and '.join(f'{n:,}' for n in sizes)} products (one database per "
        "size, same run). 'growth' is the ratio at the largest size over the ratio at the smallest: 1.00 is "
        "constant cost.",
        "",
        f"| endpoint | {head} | growth |",
        "|---|" + "---|" * len(sizes) + "---|",
    ]

    def ratio(results: list[HttpResult], name: str) -> tuple[float | None, float | None]:
        bare = next((r.rps for r in results if r.name.startswith("bare") and r.rps), None)
        row = next((r for r in results if r.name == name), None)
        if row is None or not row.rps or not bare:
            return None, None
        return row.rps, row.rps / bare

    for r in growth[sizes[0]]:
        if r.name.startswith("bare"):
            continue
        cells, ratios = [], []
        for n in sizes:
            rps, rel = ratio(growth[n], r.name)
            cells.append(f"{rps:.0f}, {rel:.2f}" if rps else "-")
            ratios.append(rel)
        grow = f"{ratios[-1] / ratios[0]:.2f}" if ratios[0] and ratios[-1] else "-"
        lines.append(f"| {r.name} | {' | '.join(cells)} | {grow} |")
    return [*lines, ""]


def render(
    http: list[HttpResult],
    engines: list[tuple[str, str]],
    args: argparse.Namespace,
    products: int,
    profile: str = "",
    growth: dict[int, list[HttpResult]] | None = None,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `bench/run.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Command: `{' '.join(['python', 'bench/run.py', *sys.argv[1:]])}` "
        "(`make bench` runs it with `--products 100000 1000000`, its BENCH_SIZES).",
        f"Machine: {machine()}.",
        "Timings come from a shared, noisy machine: compare figures within one run, not across runs.",
        "",
    ]
    if http:
        bare = next((r.rps for r in http if r.name.startswith("bare") and r.rps), None)
        lines += [
            "## HTTP",
            "",
            f"Measured on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
            f"`{' '.join(['python', 'bench/run.py', *sys.argv[1:]])}`.",
            "",
            f"gunicorn sync `-w 2` on 127.0.0.1, PostgreSQL and Redis on the same machine, `wrk -t2 -c16 "
            f"-d{args.seconds}s`, demo shop with {products} products. Every surface request is authenticated "
            "(key lookup by SHA-256), rate-limit checked in Redis and usage-counted.",
            "",
            "| endpoint | req/s | ratio to bare | ratio to the same queries | p50 ms | p99 ms | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for i, r in enumerate(http):
            if r.rps is None:
                lines.append(f"| {r.name} | - | - | - | - | - | {r.note} |")
                continue
            ratio = f"{r.rps / bare:.2f}" if bare else "-"
            twin = http[i + 1] if i + 1 < len(http) and http[i + 1].name.startswith(SAME_PREFIX) else None
            same = f"{r.rps / twin.rps:.2f}" if twin and twin.rps else "-"
            lines.append(f"| {r.name} | {r.rps:.0f} | {ratio} | {same} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.note} |")
        lines += [
            "",
            "'ratio to bare' compares with one single-row query, the issue's baseline. 'Ratio to the same queries' "
            "compares a surface's detail with a bare view running that endpoint's own selector (bench/urls.py: "
            "the same single statement, the same objects built) without key, rate limit, usage, DRF or "
            "serializer: the cost of the platform's request stack alone, since the ShopiSync and Dynasort bodies "
            "read 3 tables each (competitors and price history; options and variants) where the bare view reads "
            "one row.",
        ]
        lines.append("")
        lines += [
            "Growth with the shop's size: a detail read is one statement by an indexed key, constant; a list "
            "page is one statement over the ordering's index plus the tenant's counter (a few rows), constant "
            "(no COUNT(*) since issue 17). Both need planner statistics and, for index-only page scans, the "
            "visibility map: the demo generator ANALYZEs after its bulk load and the bench VACUUMs the products "
            "(what autovacuum does after a load) before measuring.",
            "",
        ]
    if growth:
        lines += growth_table(growth)
    if profile:
        lines += ["### Where an authenticated read spends its time", "", profile, "", HTTP_NOTE, ""]
    lines[7:7] = targets(http, engines)
    for name, text in engines:
        lines += [f"## {name}", "", text, ""]
    return "\n".join(lines)


_MARKER = re.compile(r"<!-- (.+): (begin|end) -->")


def sections_of(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` (render's output) cut into its preamble (before the first ``## `` heading) and (title, body)s."""
    lines = text.split("\n")
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    bounds = [*heads, len(lines)]
    sections = [(lines[i][3:], "\n".join(lines[i + 1 : bounds[k + 1]]).strip("\n")) for k, i in enumerate(heads)]
    return "\n".join(lines[: bounds[0]]).strip("\n"), sections


def _boundary(line: str) -> bool:
    return line.startswith("## ") or _MARKER.fullmatch(line.strip()) is not None


def splice(report: str, sections: list[tuple[str, str]], preamble: str | None = None) -> str:
    """``report`` with each (title, body) in place of the body of its namesake section, or added at the end.

    The one way a section gets into docs/benchmarks.md: a section runs from its
    heading (``## title``, or ``## title (a note)``, whose heading is kept) to
    the next ``## `` heading or ``<!-- …: begin/end -->`` marker, and a block
    between another script's markers (bench/catalog_quality.py writes one) is
    never searched. So every section this run did not produce stays as it was:
    hand-written ones, other scripts' blocks, sections of a run with fewer parts.
    ``preamble`` (the report's title and run line) replaces what stands before
    the first section.
    """
    lines = report.rstrip("\n").split("\n") if report.strip() else []
    for title, body in sections:
        block = ["", *body.strip("\n").split("\n"), ""]
        start, owner = None, None
        for i, line in enumerate(lines):
            if marker := _MARKER.fullmatch(line.strip()):
                owner = marker.group(1) if marker.group(2) == "begin" else None
            elif owner is None and (line == f"## {title}" or line.startswith(f"## {title} (")):
                start = i
                break
        if start is None:
            while lines and not lines[-1].strip():
                lines.pop()
            lines += [*([""] if lines else []), f"## {title}", *block]
            continue
        end = next((i for i in range(start + 1, len(lines)) if _boundary(lines[i])), len(lines))
        lines[start + 1 : end] = block
    if preamble is not None:
        first = next((i for i, line in enumerate(lines) if _boundary(line)), len(lines))
        lines[:first] = [*preamble.split("\n"), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_report(report: Path, text: str, only: str | None = None) -> None:
    """render()'s ``text`` into ``report`` through ``splice``; ``only``: just that section (when a report exists)."""
    old = report.read_text() if report.exists() else ""
    preamble, sections = sections_of(text)
    if only is not None and old:
        preamble, sections = None, [s for s in sections if s[0] == only]
    report.write_text(splice(old, sections, preamble))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller data and shorter runs")
    parser.add_argument("--only", choices=["http", "engines", "tenants"], help="run one part")
    parser.add_argument("--seconds", type=int, default=None, help="seconds per HTTP endpoint")
    parser.add_argument(
        "--products",
        type=int,
        nargs="+",
        default=None,
        help="demo shop size(s) for the HTTP part; each size after the first in its own database (<url>_<size>)",
    )
    parser.add_argument("--lines", type=int, default=None, help="order lines of a newly seeded shop (seed_demo)")
    parser.add_argument("--scripts", nargs="+", help="only these engine scripts (e.g. demo_bench.py)")
    parser.add_argument(
        "--report", type=Path, default=REPORT, help="the report to update (default docs/benchmarks.md), e.g. a copy"
    )
    args = parser.parse_args()
    args.seconds = args.seconds or (5 if args.quick else 15)
    sizes = args.products or [500 if args.quick else 5000]
    products = sizes[0]
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    env.setdefault("SECRET_KEY", "bench-only-secret")
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["PYTHONPATH"] = str(ROOT)
    ensure_database(env["DATABASE_URL"])
    (ROOT / "var").mkdir(exist_ok=True)
    http: list[HttpResult] = []
    growth: dict[int, list[HttpResult]] = {}
    profile = ""
    engines: list[tuple[str, str]] = []
    if args.only in (None, "http"):
        for i, size in enumerate(sizes):
            size_env = env if i == 0 else {**env, "DATABASE_URL": f"{env['DATABASE_URL']}_{size}"}
            ensure_database(size_env["DATABASE_URL"])
            print(f"preparing the demo shop ({size} products)", flush=True)
            ids = prepare(size_env, size, args.lines)
            measured = http_bench(size_env, ids, args.seconds)
            growth[ids.get("products") or size] = measured
            if i == 0:
                products = ids.get("products") or products  # the demo shop may be bigger than asked (an earlier run)
                http = measured
                print("profiling one request of each surface", flush=True)
                profile = profile_http(size_env, ids)
        if len(growth) < 2:
            growth = {}
        text = render(http, engines, args, products, profile, growth)
        # --only http: the HTTP section alone (the targets and engines' sections of an earlier run stay)
        write_report(args.report, text, "HTTP" if args.only == "http" else None)
    if args.only == "tenants":  # one engine: its section replaced in the report as it stands
        sections = engine_benches(env, args.quick, ["tenants_bench.py"])
        args.report.write_text(splice(args.report.read_text() if args.report.exists() else "# Benchmarks\n", sections))
        print(f"wrote {args.report}")
        return
    if args.only in (None, "engines"):

        def write(sections: list[tuple[str, str]]) -> None:
            write_report(args.report, render(http, sections, args, products, profile, growth))

        engines = engine_benches(env, args.quick, args.scripts, write)
        write_report(args.report, render(http, engines, args, products, profile, growth))
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
