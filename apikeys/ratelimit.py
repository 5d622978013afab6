"""Sliding-window rate limits, counted atomically in Redis in one round trip.

Why by hand: DRF's throttles read and write the cache in separate steps and
admit more than the limit under concurrency (DESIGN.md), and no maintained
library checks several limits together in one atomic step with our fallback.

Every limit that applies to a request is checked in one Lua script: the
request is admitted only when all admit it, and a refused request consumes
nothing. The window is a sliding log (a sorted set of request times), so no
more than ``limit`` requests are admitted in any ``window`` seconds, exactly.
The clock is Redis's own, shared by every web process.

The same call reads the API-key cache generation (apikeys.keycache): a request
whose cached key is no longer current is counted nowhere and answered ``stale``,
so checking the cache costs no extra round trip.

When Redis cannot be reached the same algorithm runs in process memory: limits
then hold per process (never unlimited, never a 500) and /readyz says so.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

from apikeys import redis_client

# The Redis key (under REDIS_KEY_PREFIX) of the API-key cache generation, bumped on every key or tenant write.
GENERATION_KEY = "keys:generation"

# KEYS[1]: the key-cache generation; KEYS[2..]: one sorted set per limit.
# ARGV[1]: this request's member id; ARGV[2]: the generation the caller's cached key was loaded at ('' = no
# check); then limit and window (ms) per limit. Returns {status, now_ms, generation, count1, reset1, ...} with
# status 0 admitted, 1 refused, 2 stale (nothing counted).
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local generation = redis.call('GET', KEYS[1]) or '0'
if ARGV[2] ~= '' and ARGV[2] ~= generation then return {2, now, generation} end
local refused = 0
local counts = {}
for i = 2, #KEYS do
  local window = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  counts[i] = redis.call('ZCARD', KEYS[i])
  if counts[i] >= tonumber(ARGV[2 * i - 1]) then refused = 1 end
end
local out = {refused, now, generation}
for i = 2, #KEYS do
  local window = tonumber(ARGV[2 * i])
  if refused == 0 then
    redis.call('ZADD', KEYS[i], now, ARGV[1] .. ':' .. i)
    redis.call('PEXPIRE', KEYS[i], window)
    counts[i] = counts[i] + 1
  end
  local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  local reset = now + window
  if oldest[2] then reset = tonumber(oldest[2]) + window end
  table.insert(out, counts[i])
  table.insert(out, reset)
end
return out
"""


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` requests in any ``window`` seconds for ``bucket``."""

    bucket: str
    limit: int
    window: int


@dataclass(frozen=True)
class Decision:
    """The outcome for the first (primary) limit; ``allowed`` only when every limit admitted the request."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the oldest counted request leaves the window
    retry_after: int  # seconds; 0 when allowed
    degraded: bool = False
    # the API-key cache generation Redis holds now (None without Redis); ``stale``: the caller's differs and
    # nothing was counted (every other field is then meaningless)
    generation: str | None = None
    stale: bool = False


class _MemoryLimiter:
    """The same sliding log in one process's memory, for when Redis is down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[str, deque[float]] = {}

    def hit(self, limits: list[Limit]) -> tuple[bool, float, list[tuple[int, float]]]:
        now = time.time()
        with self._lock:
            logs = []
            refused = False
            for lim in limits:
                log = self._logs.setdefault(redis_client.key("rl", lim.bucket), deque())
                while log and log[0] <= now - lim.window:
                    log.popleft()
                logs.append(log)
                refused = refused or len(log) >= lim.limit
            out = []
            for lim, log in zip(limits, logs, strict=True):
                if not refused:
                    log.append(now)
                reset = (log[0] + lim.window) if log else now + lim.window
                out.append((len(log), reset))
            if len(self._logs) > 100_000:  # drop idle buckets so memory stays bounded
                self._logs = {k: v for k, v in self._logs.items() if v and v[-1] > now - 3600}
            return not refused, now, out


class RateLimiter:
    def __init__(self) -> None:
        self._memory = _MemoryLimiter()
        self._script = None

    def hit(self, limits: list[Limit], generation: str | None = None) -> Decision:
        """Count one request against every limit in ``limits`` (all or nothing).

        With ``generation`` (the key cache's, see apikeys.keycache), a different current generation in Redis
        makes the answer ``stale`` and counts nothing.
        """
        client = redis_client.get_client()
        degraded = False
        result = None
        current: str | None = None
        if client is not None:
            try:
                result, current = self._redis_hit(client, limits, generation)
            except redis_client.REDIS_ERRORS as exc:
                redis_client.mark_failed(exc)
        if result is None and current is not None:
            return Decision(False, limits[0].limit, 0, 0.0, 0, generation=current, stale=True)
        if result is None:
            degraded = bool(redis_client.status()["configured"])
            result = self._memory.hit(limits)
        allowed, now, per_limit = result
        count, reset_at = per_limit[0]
        primary = limits[0]
        retry_after = 0
        if not allowed:
            # the earliest moment every refusing limit has room again
            retry_after = max(
                (reset - now for lim, (c, reset) in zip(limits, per_limit, strict=True) if c >= lim.limit),
                default=1.0,
            )
            retry_after = max(1, int(retry_after + 0.999))
        return Decision(
            allowed=allowed,
            limit=primary.limit,
            remaining=max(0, primary.limit - count),
            reset_at=reset_at,
            retry_after=retry_after,
            degraded=degraded,
            generation=current,
        )

    def _redis_hit(
        self, client, limits: list[Limit], generation: str | None
    ) -> tuple[tuple[bool, float, list[tuple[int, float]]] | None, str]:
        """One EVALSHA: (allowed, now, (count, reset) per limit) and the current generation; None when stale."""
        if self._script is None:
            self._script = client.register_script(_SCRIPT)
        args: list[object] = [uuid.uuid4().hex, generation or ""]
        for lim in limits:
            args += [lim.limit, lim.window * 1000]
        keys = [redis_client.key(GENERATION_KEY), *(redis_client.key("rl", lim.bucket) for lim in limits)]
        raw = self._script(keys=keys, args=args, client=client)
        current = raw[2].decode() if isinstance(raw[2], bytes) else str(raw[2])
        if raw[0] == 2:
            return None, current
        now = raw[1] / 1000
        per_limit = [(int(raw[3 + 2 * i]), raw[4 + 2 * i] / 1000) for i in range(len(limits))]
        return (raw[0] == 0, now, per_limit), current


limiter = RateLimiter()
