"""A live server on the demo shop for tests that act as real clients (curl, generated SDKs, fuzzing).

It runs gunicorn on a free loopback port against a database of its own (``<DATABASE>_live``, created,
migrated and seeded with ``seed_demo`` like ``make run`` does, then dropped), so the demo's ids match
a fresh install and nothing leaks into the pytest database. Needs PostgreSQL and Redis (as in CI).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DEMO_PRODUCTS = "200"  # what `make run` seeds, so the docs' demo ids are the ones served
DEMO_KEYS = {
    "connector": "dyn_sk_b4223b3b7455a3fcf10284b659a40492738668f862db0683ba72ddf3c46cdc7b5f3fa8d6",
    "admin": "sk_live_maX3kbTPP0eeMK9DnkIE2y4BnvWxG5MT8fJZuhNBNzY1aA1LP",
    "write": "sk_live_MWWaGU7F1p6ZUzcB8ZstYOBtAsNuGdR2WgQEp7aSzj91inYo6",
    "read": "sk_live_QrbeSZjvbLidULVD6WlpAD4Zy2Y2v0U5adWnpCDXCoy1HtZq3",
}


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_connection(db: dict) -> psycopg.Connection:
    return psycopg.connect(
        dbname="postgres",
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
    )


def _recreate(db: dict, name: str, *, create: bool) -> None:
    with _admin_connection(db) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"live server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310  (our http URL)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("live server did not come up")


def start_demo_server() -> Iterator[LiveServer]:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        pytest.skip("the live server needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    db = dj_database_url.parse(database_url)
    name = f"{db['NAME']}_live_{uuid.uuid4().hex[:6]}"
    _recreate(db, name, create=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url.rsplit("/", 1)[0] + f"/{name}",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"live:{uuid.uuid4().hex[:12]}",
        "DJANGO_SETTINGS_MODULE": "tests.contracts.live_settings",
        "CELERY_TASK_ALWAYS_EAGER": "1",  # no worker here: sorts and recommendations run in the request
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
    }
    process = None
    try:
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [*manage, "seed_demo", "--products", DEMO_PRODUCTS],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"]
        process = subprocess.Popen(  # noqa: S603
            [*gunicorn, "--no-control-socket", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process)
        yield LiveServer(url=url, env=env)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _recreate(db, name, create=False)
