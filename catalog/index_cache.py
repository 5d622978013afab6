"""A least-recently-used cache held under a byte budget: the per-process home of the tenants' indexes.

Pure (no Django): the budget and the size of a value are functions given by the caller, so the cache is
tested and benchmarked on its own. Thread-safe: a web or worker process may look up and store indexes from
several threads; the lock guards the bookkeeping only, never a build (builds read the database).

Rules:
- after every ``put`` the sizes of the kept values add up to at most the budget (least recently used out);
- a value larger than the whole budget is not kept at all (the caller still serves it): keeping it alone
  would evict every other tenant on each of its uses and still break the budget;
- a value never replaces a newer one (``version``): two threads that built different versions of one
  tenant's index leave the newer in the cache whatever order they finish in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int
    budget: int | None  # None: unbounded
    hits: int  # a lookup found a current value
    misses: int  # nothing kept: a cold build
    refreshes: int  # a value was kept but out of date (a write since): a delta or a rebuild
    evictions: int  # values dropped to stay under the budget
    oversize: int  # values larger than the whole budget, served but not kept


class IndexCache(Generic[V]):
    """key -> value, least recently used first, the values' sizes summing to at most ``budget()`` bytes."""

    def __init__(
        self,
        *,
        budget: Callable[[], int | None],
        size: Callable[[V], int],
        version: Callable[[V], int] = lambda value: 0,
    ) -> None:
        self._budget = budget
        self._size = size
        self._version = version
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._counts = {"hits": 0, "misses": 0, "refreshes": 0, "evictions": 0, "oversize": 0}

    def get(self, key: Hashable) -> V | None:
        """The value kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def count(self, what: str) -> None:
        """Record the outcome of a lookup: "hits", "misses" or "refreshes" (the caller knows which)."""
        with self._lock:
            self._counts[what] += 1

    def put(self, key: Hashable, value: V) -> bool:
        """Keep ``value`` under ``key`` (least recently used values out); False when it was not kept."""
        size = self._size(value)  # outside the lock: it walks the value
        budget = self._budget()
        with self._lock:
            old = self._entries.get(key)
            if old is not None and self._version(old[0]) > self._version(value):
                return False  # another thread stored a newer build meanwhile
            if old is not None:
                del self._entries[key]
                self._bytes -= old[1]
            if budget is not None and size > budget:
                self._counts["oversize"] += 1
                return False
            self._entries[key] = (value, size)
            self._bytes += size
            while budget is not None and self._bytes > budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
                self._counts["evictions"] += 1
            return True

    def discard(self, key: Hashable) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]

    def clear(self) -> None:
        """Drop every value and reset the counters."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._counts = dict.fromkeys(self._counts, 0)

    def keys(self) -> list[Hashable]:
        """The kept keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(entries=len(self._entries), bytes=self._bytes, budget=self._budget(), **self._counts)
