"""Per-key usage counting on the request path: one pipelined Redis call, no database write.

Counters are absolute totals per key and hour (a Redis hash), so the periodic
flush (``usage_flush`` in services) writes them as they are and is safe to run
twice. The last 50 requests of a key lineage are kept in a capped Redis list.
Without Redis the same is kept in this process's memory.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime

from apikeys import redis_client

RECENT_LIMIT = 50
_COUNTER_TTL = 3 * 24 * 3600
_DIRTY = "usage:dirty"


def hour_of(ts: float) -> int:
    return int(ts // 3600 * 3600)


def _fields(status: int, throttled: bool) -> list[str]:
    fields = ["requests"]
    if throttled:
        fields.append("throttled")
    if 400 <= status < 500:
        fields.append("errors_4xx")
    elif status >= 500:
        fields.append("errors_5xx")
    return fields


class _MemoryUsage:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: dict[tuple[int, int], dict[str, object]] = defaultdict(dict)
        self.recent: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=RECENT_LIMIT))


_memory = _MemoryUsage()


def record(*, key_id: int, lineage_id: str, status: int, method: str, path: str, ip: str | None) -> None:
    """Count one request of a key (called once per authenticated API request)."""
    now = time.time()
    hour = hour_of(now)
    bucket = f"{key_id}:{hour}"
    entry = json.dumps(
        {
            "method": method,
            "path": path[:300],
            "status": status,
            "ip": ip,
            "at": datetime.fromtimestamp(now, UTC).isoformat(),
        }
    )
    fields = _fields(status, status == 429)
    client = redis_client.get_client()
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            hkey = redis_client.key("usage", bucket)
            for field in fields:
                pipe.hincrby(hkey, field, 1)
            pipe.hset(hkey, mapping={"last_at": now, "last_ip": ip or ""})
            pipe.expire(hkey, _COUNTER_TTL)
            pipe.sadd(redis_client.key(_DIRTY), bucket)
            rkey = redis_client.key("recent", lineage_id)
            pipe.lpush(rkey, entry)
            pipe.ltrim(rkey, 0, RECENT_LIMIT - 1)
            pipe.expire(rkey, 30 * 24 * 3600)
            pipe.execute()
            return
        except redis_client.REDIS_ERRORS as exc:
            redis_client.mark_failed(exc)
    with _memory.lock:
        counter = _memory.counters[(key_id, hour)]
        for field in fields:
            counter[field] = int(counter.get(field, 0)) + 1
        counter["last_at"] = now
        counter["last_ip"] = ip or ""
        _memory.recent[lineage_id].appendleft(entry)


def pending(only_key_ids: set[int] | None = None) -> list[tuple[int, int, dict[str, str]]]:
    """Every (key id, hour, counters) not yet known to be final, from Redis and from this process."""
    out: list[tuple[int, int, dict[str, str]]] = []
    client = redis_client.get_client()
    if client is not None:
        try:
            members = [m.decode() for m in client.smembers(redis_client.key(_DIRTY))]
            if only_key_ids is not None:
                members = [m for m in members if int(m.split(":")[0]) in only_key_ids]
            pipe = client.pipeline(transaction=False)
            for member in members:
                pipe.hgetall(redis_client.key("usage", member))
            for member, values in zip(members, pipe.execute(), strict=True):
                key_id, hour = (int(x) for x in member.split(":"))
                out.append((key_id, hour, {k.decode(): v.decode() for k, v in values.items()}))
        except redis_client.REDIS_ERRORS as exc:
            redis_client.mark_failed(exc)
    with _memory.lock:
        for (key_id, hour), counter in _memory.counters.items():
            if only_key_ids is None or key_id in only_key_ids:
                out.append((key_id, hour, {k: str(v) for k, v in counter.items()}))
    return out


def mark_final(buckets: list[tuple[int, int]]) -> None:
    """Forget flushed buckets of past hours (the current and previous hour stay: they may still grow)."""
    cutoff = hour_of(time.time()) - 3600
    done = [(k, h) for k, h in buckets if h < cutoff]
    if not done:
        return
    client = redis_client.get_client()
    if client is not None:
        try:
            client.srem(redis_client.key(_DIRTY), *[f"{k}:{h}" for k, h in done])
        except redis_client.REDIS_ERRORS as exc:
            redis_client.mark_failed(exc)
    with _memory.lock:
        for bucket in done:
            _memory.counters.pop(bucket, None)


def recent(lineage_id: str) -> list[dict[str, object]]:
    """The last requests of a key lineage, newest first."""
    rows: list[str] = []
    client = redis_client.get_client()
    if client is not None:
        try:
            rows = [r.decode() for r in client.lrange(redis_client.key("recent", lineage_id), 0, RECENT_LIMIT - 1)]
        except redis_client.REDIS_ERRORS as exc:
            redis_client.mark_failed(exc)
    with _memory.lock:
        rows += list(_memory.recent.get(lineage_id, ()))
    parsed = [json.loads(r) for r in rows]
    parsed.sort(key=lambda r: r["at"], reverse=True)
    return parsed[:RECENT_LIMIT]


def reset_memory_for_tests() -> None:
    with _memory.lock:
        _memory.counters.clear()
        _memory.recent.clear()
