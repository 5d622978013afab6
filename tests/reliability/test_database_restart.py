"""PostgreSQL restarted under traffic (a cluster of the test's own): every surface answers a clear 503 in
its own error form while the database is down, /readyz names it, and the same web process serves again
once the database is back, without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.celery_worker import wait_for
from tests.reliability.servers import ROOT, PostgresCluster, WebServer, http, postgres_available

SURFACES = {
    "merchandising": ("POST", "/api/v1/", {"action": "list_recipes"}),
    "catalog": ("GET", "/api/v3/products", None),
    "pricing": ("GET", "/api/external/v1/stats", None),
    "platform": ("GET", "/api/platform/v1/keys", None),
}


def manage(database_url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {"DATABASE_URL": database_url}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout


@pytest.fixture(scope="module")
def own_database() -> Iterator[tuple[PostgresCluster, str]]:
    if not postgres_available():
        pytest.skip("needs /usr/lib/postgresql/15/bin")
    cluster = PostgresCluster()
    try:
        manage(cluster.url, "migrate", "--no-input", "-v0")
        manage(cluster.url, "create_tenant", "--domain", "restart.myshopify.com", "--name", "R", "--plan", "enterprise")
        key = manage(
            cluster.url, "create_api_key", "--tenant", "restart.myshopify.com", "--name", "t", "--permission", "admin"
        ).split()[-1]
        yield cluster, key
    finally:
        cluster.destroy()


def expected_503(surface: str, body: dict) -> None:
    if surface == "merchandising":
        assert body["error"] is True and set(body) == {"error", "message", "code"}
    elif surface == "catalog":
        assert set(body) == {"error"} and isinstance(body["error"], str)
    else:
        assert set(body) >= {"error", "code"} and isinstance(body["code"], str)
    assert "Traceback" not in str(body) and "psycopg" not in str(body).lower()


def test_database_restart_gives_503s_then_recovers_without_restart(own_database):
    cluster, key = own_database
    server = WebServer(database_url=cluster.url, redis_url=None, workers=1)
    try:
        for method, path, body in SURFACES.values():
            assert http(method, server.url + path, key, body)[0] == 200

        cluster.stop()
        for surface, (method, path, body) in SURFACES.items():
            for _ in range(2):  # the first request finds the dead persistent connection, the next a refused one
                status, _, answer = http(method, server.url + path, key, body)
                assert status == 503, (surface, status, answer)
                expected_503(surface, answer)
        status, _, ready = http("GET", server.url + "/readyz")
        assert status == 503 and ready["checks"]["database"]["ok"] is False
        assert http("GET", server.url + "/healthz")[0] == 200

        cluster.start()
        assert wait_for(lambda: http("GET", server.url + "/readyz")[0] == 200, timeout=30)
        for method, path, body in SURFACES.values():
            assert http(method, server.url + path, key, body)[0] == 200
        assert server.process.poll() is None  # the same process
    finally:
        server.stop()
