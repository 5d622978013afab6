#!/usr/bin/env python
"""Load soak: N minutes of mixed traffic over the four surfaces while a Celery worker sorts collections
and reprices products in the background. Not part of the test run.

    make soak                                   # 10 minutes
    .venv/bin/python bench/soak.py --minutes 3 --clients 6

Needs PostgreSQL and Redis (defaults: postgres://postgres@127.0.0.1:5432/soak, redis://127.0.0.1:6379/6;
the database is created if missing). Starts gunicorn (sync, -w 2) and one Celery worker on free loopback
ports / a queue of its own, seeds the demo shop, and reports: requests and errors per status class (target:
zero 5xx), latency percentiles per minute, and the resident memory of the web and worker processes over
time. Rate limits are raised (bench.settings) so the limiter is checked on every request but never refuses.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/soak"
DEFAULT_REDIS = "redis://127.0.0.1:6379/6"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(cmd: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, text=True, **kwargs)


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


PREPARE = r"""
import json
from apikeys.services import api_key_create
from catalog.models import Product
from merchandising.models import Collection, Recipe
from tenants.models import Tenant
tenant = Tenant.objects.get(domain="demo.myshopify.com")
key = api_key_create(tenant=tenant, name="soak", permission="admin", rate_limit=1_000_000_000, rate_limit_window=60)
recipe = Recipe.objects.for_tenant(tenant).order_by("pk").first()
collections = list(Collection.objects.for_tenant(tenant).order_by("pk")[:5])
for c in collections:
    c.enabled, c.recipe = True, recipe
    c.save(update_fields=["enabled", "recipe", "updated_at"])
products = list(Product.objects.for_tenant(tenant).order_by("external_id").values_list("external_id", "pk")[:200])
print(json.dumps({"key": key.plaintext, "products": products, "collections": [c.external_id for c in collections]}))
"""


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[tuple[float, str, int, float]] = []  # (t, op, status, seconds)

    def add(self, t: float, op: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples.append((t, op, status, seconds))


def request(base: str, key: str, method: str, path: str, body: object = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code
    except OSError:
        return 599  # connection failure: counted as a server error


def operations(seed: dict) -> list[tuple[str, int, object]]:
    """(name, weight, builder) of the mixed traffic; builders return (method, path, body)."""
    products, collections = seed["products"], seed["collections"]

    def pid() -> int:
        return random.choice(products)[0]

    def ppk() -> int:
        return random.choice(products)[1]

    def now() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    return [
        ("dynasort list_collections", 6, lambda: ("POST", "/api/v1/", {"action": "list_collections", "limit": 50})),
        ("dynasort get_product", 8, lambda: ("POST", "/api/v1/", {"action": "get_product", "product_id": pid()})),
        (
            "dynasort set_product_boost",
            3,
            lambda: (
                "POST",
                "/api/v1/",
                {"action": "set_product_boost", "product_id": pid(), "boost": random.randint(-50, 50)},
            ),
        ),
        (
            "dynasort sort_collection",
            1,
            lambda: ("POST", "/api/v1/", {"action": "sort_collection", "collection_id": random.choice(collections)}),
        ),
        ("sortillus list", 8, lambda: ("GET", "/api/v3/products?per_page=50", None)),
        ("sortillus get", 10, lambda: ("GET", f"/api/v3/products/{pid()}", None)),
        ("sortillus patch", 3, lambda: ("PATCH", f"/api/v3/products/{pid()}", {"product": {"brand": "Soak"}})),
        ("sortillus recommend", 1, lambda: ("POST", f"/api/v3/products/{ppk()}/recommend", None)),
        ("shopisync list", 6, lambda: ("GET", "/api/external/v1/products?limit=50", None)),
        ("shopisync get", 10, lambda: ("GET", f"/api/external/v1/products/{pid()}", None)),
        ("shopisync stats", 2, lambda: ("GET", "/api/external/v1/stats", None)),
        (
            "shopisync put",
            3,
            lambda: ("PUT", f"/api/external/v1/products/{pid()}", {"autoReprice": True, "minPrice": "1.00"}),
        ),
        (
            "platform competitor-prices",
            3,
            lambda: (
                "POST",
                "/api/platform/v1/competitor-prices",
                {
                    "observations": [
                        {
                            "product_id": pid(),
                            "competitor": f"Rival {random.randint(1, 3)}",
                            "price": f"{random.uniform(5, 60):.2f}",
                            "in_stock": True,
                            "observed_at": now(),
                        }
                    ]
                },
            ),
        ),
        ("platform keys", 1, lambda: ("GET", "/api/platform/v1/keys", None)),
        ("platform prompt", 1, lambda: ("GET", "/api/platform/v1/connector/prompt", None)),
    ]


def client_loop(base: str, key: str, ops: list, recorder: Recorder, stop_at: float, start: float) -> None:
    names, weights = [o[0] for o in ops], [o[1] for o in ops]
    builders = {o[0]: o[2] for o in ops}
    while time.monotonic() < stop_at:
        name = random.choices(names, weights)[0]
        method, path, body = builders[name]()
        began = time.monotonic()
        status = request(base, key, method, path, body)
        recorder.add(began - start, name, status, time.monotonic() - began)


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the raw summary here")
    args = parser.parse_args()

    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DB)
    env.setdefault("REDIS_URL", DEFAULT_REDIS)
    env.update(DEBUG="0", SECRET_KEY="soak-" + "x" * 40, DJANGO_SETTINGS_MODULE="bench.settings")
    env.update(CELERY_TASK_ALWAYS_EAGER="0", CELERY_QUEUE=f"soak-{os.getpid()}", LOG_LEVEL="WARNING")
    ensure_database(env["DATABASE_URL"])
    sh([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], env)
    sh(
        [sys.executable, "manage.py", "seed_demo", "--products", str(args.products), "--allow-production"],
        env,
        stdout=subprocess.DEVNULL,
    )
    seed = json.loads(
        sh([sys.executable, "manage.py", "shell", "-c", PREPARE], env, capture_output=True)
        .stdout.strip()
        .splitlines()[-1]
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = ROOT / "var"
    logs.mkdir(exist_ok=True)
    web_log, worker_log = open(logs / "soak-web.log", "w"), open(logs / "soak-worker.log", "w")  # noqa: SIM115
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            env["CELERY_QUEUE"],
            "--concurrency",
            "1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and request(base, seed["key"], "GET", "/healthz") != 200:
            time.sleep(0.5)
        recorder = Recorder()
        memory: list[tuple[float, float, float]] = []  # (t, web MiB, worker MiB)
        start = time.monotonic()
        stop_at = start + args.minutes * 60
        ops = operations(seed)
        threads = [
            threading.Thread(target=client_loop, args=(base, seed["key"], ops, recorder, stop_at, start), daemon=True)
            for _ in range(args.clients)
        ]
        for t in threads:
            t.start()
        while time.monotonic() < stop_at:
            web_rss = rss_mib(web.pid) + sum(rss_mib(c) for c in children(web.pid))
            worker_rss = rss_mib(worker.pid) + sum(rss_mib(c) for c in children(worker.pid))
            memory.append((time.monotonic() - start, web_rss, worker_rss))
            time.sleep(min(15, max(0.1, stop_at - time.monotonic())))
        for t in threads:
            t.join(timeout=60)
        web_rss = rss_mib(web.pid) + sum(rss_mib(c) for c in children(web.pid))
        worker_rss = rss_mib(worker.pid) + sum(rss_mib(c) for c in children(worker.pid))
        memory.append((time.monotonic() - start, web_rss, worker_rss))
        out = sh([sys.executable, "manage.py", "shell", "-c", STUCK], env, capture_output=True).stdout
        backlog = out.strip().splitlines()[-1]
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        web_log.close()
        worker_log.close()
    report(recorder.samples, memory, args, backlog)
    if args.json:
        args.json.write_text(json.dumps({"samples": len(recorder.samples), "memory": memory}))
    return 1 if any(s >= 500 for _, _, s, _ in recorder.samples) else 0


STUCK = r"""
from merchandising.models import Collection
from catalog.models import Product
print(f"collections running: {Collection.objects.filter(sort_state='running').count()}, "
      f"products recommending: {Product.objects.filter(state='recommending_products').count()}")
"""


def report(samples, memory, args, backlog: str) -> None:
    statuses = Counter(s for _, _, s, _ in samples)
    total = len(samples)
    duration = max((t for t, _, _, _ in samples), default=1)
    print(f"# Soak: {args.minutes:g} min, {args.clients} client threads, gunicorn -w 2, 1 Celery worker\n")
    print(f"requests: {total} ({total / duration:.1f}/s); status counts: {dict(sorted(statuses.items()))}")
    print(f"5xx (incl. connection failures as 599): {sum(v for k, v in statuses.items() if k >= 500)}")
    print(f"after the run: {backlog}\n")
    print("| minute | requests | p50 ms | p95 ms | p99 ms | max ms | 5xx |")
    print("|---|---|---|---|---|---|---|")
    by_minute = defaultdict(list)
    for t, _, status, seconds in samples:
        by_minute[int(t // 60)].append((status, seconds))
    for minute in sorted(by_minute):
        rows = by_minute[minute]
        lat = [s * 1000 for _, s in rows]
        errors = sum(1 for status, _ in rows if status >= 500)
        print(
            f"| {minute + 1} | {len(rows)} | {percentile(lat, 0.5):.0f} | {percentile(lat, 0.95):.0f} | "
            f"{percentile(lat, 0.99):.0f} | {max(lat):.0f} | {errors} |"
        )
    print("\n| operation | requests | p50 ms | p95 ms | statuses |")
    print("|---|---|---|---|---|")
    by_op = defaultdict(list)
    for _, op, status, seconds in samples:
        by_op[op].append((status, seconds))
    for op in sorted(by_op):
        rows = by_op[op]
        lat = [s * 1000 for _, s in rows]
        counts = dict(sorted(Counter(status for status, _ in rows).items()))
        print(f"| {op} | {len(rows)} | {statistics.median(lat):.0f} | {percentile(lat, 0.95):.0f} | {counts} |")
    print("\n| t (s) | web RSS MiB (master + 2 workers) | worker RSS MiB |")
    print("|---|---|---|")
    step = max(1, len(memory) // 8)
    for t, web_rss, worker_rss in memory[::step] + ([memory[-1]] if (len(memory) - 1) % step else []):
        print(f"| {t:.0f} | {web_rss:.0f} | {worker_rss:.0f} |")
    if len(memory) >= 2:
        # the first samples include start-up (imports, first task, connection pools); growth is what follows
        warm = next((m for m in memory if m[0] >= 30), memory[0])
        print(
            f"\nmemory growth after warm-up (t={warm[0]:.0f}s to the end): web {memory[-1][1] - warm[1]:+.0f} MiB, "
            f"worker {memory[-1][2] - warm[2]:+.0f} MiB; from the start: web {memory[-1][1] - memory[0][1]:+.0f} MiB, "
            f"worker {memory[-1][2] - memory[0][2]:+.0f} MiB"
        )


if __name__ == "__main__":
    sys.exit(main())
