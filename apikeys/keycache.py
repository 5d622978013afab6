"""A per-process cache of API keys by hash, checked against a Redis generation on every request.

Why: looking the key up (one query, tenant joined) was the largest fixed cost of an API
request (docs/benchmarks.md). Every write to a key or a tenant bumps one Redis counter, the
generation. A cached key carries the generation read *before* it was loaded; the rate-limit
call every request makes anyway compares it with the current one in the same round trip
(apikeys.ratelimit), and a request whose key is not current is answered "stale", counted
nowhere, and authenticated again from the database. So a revocation is seen by every process
on its next request, exactly as without the cache.

Without Redis nothing is cached: nothing could tell a process that a key changed. A bump that
fails (Redis unreachable while a key is revoked) is covered by the cache's age limit
(``API_KEY_CACHE_SECONDS``): no entry is used longer than that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from apikeys import redis_client
from apikeys.ratelimit import GENERATION_KEY

_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Entry:
    key: object  # apikeys.models.ApiKey with its tenant loaded (not imported: models import this module)
    generation: str
    loaded_at: float


class KeyCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], Entry] = {}
        self.clock = clock  # seconds, for the age limit (a test sets its own to step time exactly)

    def get(self, digest: str) -> Entry | None:
        """The cached key of this hash, if it is younger than API_KEY_CACHE_SECONDS."""
        entry = self._entries.get((settings.REDIS_KEY_PREFIX, digest))
        if entry is None or self.clock() - entry.loaded_at >= settings.API_KEY_CACHE_SECONDS:
            return None
        return entry

    def put(self, digest: str, key: object, generation: str) -> None:
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()  # keys are few per process; a full cache is just reloaded
            self._entries[(settings.REDIS_KEY_PREFIX, digest)] = Entry(key, generation, self.clock())

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop((settings.REDIS_KEY_PREFIX, digest), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


cache = KeyCache()


def generation() -> str | None:
    """The current generation (read before loading a key to cache it); None when Redis cannot say."""
    if settings.API_KEY_CACHE_SECONDS <= 0:
        return None
    client = redis_client.get_client()
    if client is None:
        return None
    try:
        value = client.get(redis_client.key(GENERATION_KEY))
    except redis_client.REDIS_ERRORS as exc:
        redis_client.mark_failed(exc)
        return None
    return value.decode() if value is not None else "0"


def _bump() -> None:
    cache.clear()
    client = redis_client.get_client()
    if client is None:
        return
    try:
        client.incr(redis_client.key(GENERATION_KEY))
    except redis_client.REDIS_ERRORS as exc:
        redis_client.mark_failed(exc)


def keys_changed() -> None:
    """Call after any write that can change what a key may do (the key, its tenant, the tenant's plan).

    Bumped at once and again after the commit: a process that loads the key between the
    two reads the old row, and the second bump makes it load again.
    """
    _bump()
    transaction.on_commit(_bump)
