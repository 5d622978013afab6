"""Standard-library-only HTTP client for load tests: client processes are started with "spawn" (a fork of
the multi-threaded pytest process can inherit a held lock and hang), so what they import stays small."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


def http(method: str, url: str, key: str | None = None, body: object = None, timeout: float = 30.0):
    """(status, headers, parsed body or raw text) of one request; never raises for HTTP errors."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback test servers)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, raw.decode(errors="replace")


def burst(job: tuple[list[str], str, str, int]) -> list[tuple[int, dict[str, str]]]:
    """Run in a client process: ``n`` concurrent GETs of ``path`` spread over the servers."""
    urls, path, key, n = job
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda i: http("GET", urls[i % len(urls)] + path, key), range(n)))
    return [(status, {h: headers.get(h) for h in HEADERS}) for status, headers, _ in results]
