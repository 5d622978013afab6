"""Liveness and readiness probes."""

from __future__ import annotations

import dataclasses

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from apikeys import redis_client


@require_GET
def healthz(request):
    """The process is up (no dependency is checked)."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """Database and Redis reachable; 503 naming what failed. A degraded rate limiter is reported."""
    checks: dict[str, dict[str, object]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    state = redis_client.status()
    if state["configured"]:
        client = redis_client.get_client() or redis_client.fresh_client()
        try:
            client.ping()
            checks["redis"] = {"ok": True}
        except redis_client.REDIS_ERRORS as exc:
            redis_client.mark_failed(exc)
            checks["redis"] = {"ok": False, "error": type(exc).__name__}
        checks["rate_limiter"] = {
            "ok": checks["redis"]["ok"],
            "mode": "per-process memory (Redis unreachable)" if not checks["redis"]["ok"] else "redis",
            "redis_failures": state["failures"],
        }
    else:
        checks["redis"] = {"ok": True, "mode": "not configured (embedded mode: in-process limits)"}
    from catalog import index  # this process's tenant indexes under CATALOG_INDEX_MEMORY_BUDGET_MB

    checks["index_cache"] = {"ok": True, **dataclasses.asdict(index.cache_stats())}
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
