"""Per-key usage counting on the request path: no database write, and no Redis round trip.

Counters are absolute totals per key and hour (a Redis hash), so the periodic
flush (``usage_flush`` in services) writes them as they are and is safe to run
twice. The last 50 requests of a key lineage are kept in a capped Redis list.

A request only adds to this process's buffer; a background thread writes the
buffer to Redis in one pipeline every ``USAGE_BUFFER_SECONDS`` (counters summed
per key and hour, so a busy process sends a few commands per interval, not a
pipeline per request). Readers in this process (``pending``, ``recent``) write
the buffer first; other processes' requests appear within the interval. A
process killed outright loses at most that interval's counts; a normal exit
writes the buffer. With the interval at 0 every request writes at once.
Without Redis the same is kept in this process's memory.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime

from django.conf import settings

from apikeys import redis_client

log = logging.getLogger(__name__)

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


class _Buffer:
    """Requests counted in this process and not yet written to Redis."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.counters: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.last: dict[tuple[int, int], tuple[float, str]] = {}
        self.recent: dict[str, list[str]] = defaultdict(list)
        self.thread: threading.Thread | None = None

    def take(self):
        with self.lock:
            taken = (self.counters, self.last, self.recent)
            self.counters = defaultdict(lambda: defaultdict(int))
            self.last = {}
            self.recent = defaultdict(list)
        return taken


_buffer = _Buffer()


def record(*, key_id: int, lineage_id: str, status: int, method: str, path: str, ip: str | None) -> None:
    """Count one request of a key (called once per authenticated API request)."""
    global _buffer
    now = time.time()
    bucket = (key_id, hour_of(now))
    entry = json.dumps(
        {
            "method": method,
            "path": path[:300],
            "status": status,
            "ip": ip,
            "at": datetime.fromtimestamp(now, UTC).isoformat(),
        }
    )
    if _buffer.pid != os.getpid():  # a forked child starts with its own empty buffer and thread
        _buffer = _Buffer()
    buf = _buffer
    with buf.lock:
        counter = buf.counters[bucket]
        for field in _fields(status, status == 429):
            counter[field] += 1
        buf.last[bucket] = (now, ip or "")
        recent_entries = buf.recent[lineage_id]
        recent_entries.append(entry)
        if len(recent_entries) > RECENT_LIMIT:
            del recent_entries[:-RECENT_LIMIT]
    interval = settings.USAGE_BUFFER_SECONDS
    if interval <= 0:
        write_buffer()
    elif buf.thread is None:
        _start_writer(buf)


def _start_writer(buf: _Buffer) -> None:
    with buf.lock:
        if buf.thread is not None:
            return
        buf.thread = threading.Thread(target=_writer, args=(buf,), name="usage-writer", daemon=True)
        buf.thread.start()


def _writer(buf: _Buffer) -> None:
    while buf is _buffer:
        time.sleep(max(settings.USAGE_BUFFER_SECONDS, 0.05))
        try:
            write_buffer()
        except Exception:  # the writer must outlive any one failure
            log.exception("usage buffer write failed")


def write_buffer() -> None:
    """Write this process's buffered counts to Redis in one pipeline (to memory when Redis is down)."""
    counters, last, recent_entries = _buffer.take()
    if not counters and not recent_entries:
        return
    client = redis_client.get_client()
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            for (key_id, hour), fields in counters.items():
                hkey = redis_client.key("usage", f"{key_id}:{hour}")
                for field, count in fields.items():
                    pipe.hincrby(hkey, field, count)
                at, ip = last[(key_id, hour)]
                pipe.hset(hkey, mapping={"last_at": at, "last_ip": ip})
                pipe.expire(hkey, _COUNTER_TTL)
            if counters:
                pipe.sadd(redis_client.key(_DIRTY), *[f"{k}:{h}" for k, h in counters])
            for lineage_id, entries in recent_entries.items():
                rkey = redis_client.key("recent", lineage_id)
                pipe.lpush(rkey, *entries)  # oldest first: the newest ends up at the head
                pipe.ltrim(rkey, 0, RECENT_LIMIT - 1)
                pipe.expire(rkey, 30 * 24 * 3600)
            pipe.execute()
            return
        except redis_client.REDIS_ERRORS as exc:
            redis_client.mark_failed(exc)
    with _memory.lock:
        for bucket, fields in counters.items():
            counter = _memory.counters[bucket]
            for field, count in fields.items():
                counter[field] = int(counter.get(field, 0)) + count
            counter["last_at"], counter["last_ip"] = last[bucket]
        for lineage_id, entries in recent_entries.items():
            _memory.recent[lineage_id].extendleft(entries)


def _write_at_exit() -> None:
    if _buffer.pid == os.getpid():
        try:
            write_buffer()
        except Exception:  # at exit there is no one else to tell
            log.exception("usage buffer write at exit failed")


atexit.register(_write_at_exit)


def pending(only_key_ids: set[int] | None = None) -> list[tuple[int, int, dict[str, str]]]:
    """Every (key id, hour, counters) not yet known to be final, from Redis and from this process."""
    write_buffer()
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
    write_buffer()
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
    _buffer.take()
    with _memory.lock:
        _memory.counters.clear()
        _memory.recent.clear()
