"""One shared Redis client for the request path, with a short circuit breaker.

When Redis fails, callers fall back (rate limits in memory, usage in memory)
and Redis is not tried again for ``_RETRY_AFTER`` seconds, so a dead Redis
costs each request nothing. The state is visible to /readyz.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings

log = logging.getLogger(__name__)

_RETRY_AFTER = 5.0
_lock = threading.Lock()
_client: redis.Redis | None = None
_down_until = 0.0
_failures = 0
_last_error = ""

REDIS_ERRORS = (redis.RedisError, OSError)


def key(*parts: object) -> str:
    return ":".join([settings.REDIS_KEY_PREFIX, *(str(p) for p in parts)])


def get_client() -> redis.Redis | None:
    """The client, or None when no Redis is configured or it failed a moment ago."""
    global _client
    if not settings.REDIS_URL:
        return None
    if time.monotonic() < _down_until:
        return None
    if _client is None:
        with _lock:
            if _client is None:
                _client = redis.Redis.from_url(
                    settings.REDIS_URL,
                    socket_timeout=settings.REDIS_TIMEOUT,
                    socket_connect_timeout=settings.REDIS_TIMEOUT,
                    health_check_interval=30,
                )
    return _client


def mark_failed(exc: BaseException) -> None:
    """Record a Redis failure: log it once per outage and stop trying for a few seconds."""
    global _down_until, _failures, _last_error
    with _lock:
        was_up = time.monotonic() >= _down_until
        _down_until = time.monotonic() + _RETRY_AFTER
        _failures += 1
        _last_error = f"{type(exc).__name__}: {exc}"
    if was_up:
        log.warning("Redis unreachable (%s); using per-process fallbacks for %.0fs", _last_error, _RETRY_AFTER)


def status() -> dict[str, object]:
    return {
        "configured": bool(settings.REDIS_URL),
        "degraded": time.monotonic() < _down_until,
        "failures": _failures,
        "last_error": _last_error,
    }


def reset_for_tests() -> None:
    global _client, _down_until, _failures, _last_error
    with _lock:
        _client = None
        _down_until = 0.0
        _failures = 0
        _last_error = ""


def fresh_client() -> redis.Redis:
    """A client that ignores the breaker (for probes that must try Redis now)."""
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=settings.REDIS_TIMEOUT, socket_connect_timeout=settings.REDIS_TIMEOUT
    )
