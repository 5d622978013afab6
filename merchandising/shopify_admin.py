"""A small client of Shopify's GraphQL Admin API, for writing sort results back (merchandising.store_writeback).

Hand-written on the standard library (urllib) rather than a new dependency: the writeback needs one POST
endpoint, three mutations and one query. What it does about Shopify's answers (docs/shopify.md):

- ``POST https://{shop}/admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token``;
  ``SHOPIFY_ADMIN_BASE_URL`` replaces ``https://{shop}`` (a stand-in in tests, a proxy).
- Throttling: Shopify limits by query cost (a leaky bucket; every answer carries
  ``extensions.cost.throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}``). A request the
  bucket cannot take is answered with a ``THROTTLED`` error (HTTP 200), or HTTP 429 with ``Retry-After``.
  Both are waited out and the same request is sent again; before each request the client also waits until
  the bucket, as last reported, holds the cost of the previous request, so it rarely gets throttled at all.
  A wait longer than ``SHOPIFY_THROTTLE_MAX_WAIT_SECONDS`` becomes a ``Transient`` (the task retries later).
- Transient: 5xx, timeouts, connection errors -> ``Transient`` (the task retries with backoff).
- Permanent: 401/403/404 and other 4xx, GraphQL errors other than throttling -> ``Permanent``. userErrors are
  returned to the caller, which decides (they are permanent for the writeback).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

# a throttled request is sent again at most this many times before the task gives up for now (Transient)
MAX_THROTTLED_TRIES = 8


class AdminApiError(Exception):
    """A call to the Admin API failed."""


class Transient(AdminApiError):
    """Worth trying again later (5xx, timeout, connection error, a throttle longer than we wait inline)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(AdminApiError):
    """Sending the same request again will fail again (bad token, no access, unknown resource, bad query)."""


@dataclass
class CallStats:
    """What the client went through, recorded on the writeback."""

    requests: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def gid(kind: str, external_id: int) -> str:
    """Shopify's global id of a resource from its numeric id (our external ids are Shopify's ids)."""
    return f"gid://shopify/{kind}/{external_id}"


def endpoint(shop_domain: str, api_version: str) -> str:
    base = (settings.SHOPIFY_ADMIN_BASE_URL or f"https://{shop_domain}").rstrip("/")
    return f"{base}/admin/api/{api_version}/graphql.json"


class AdminClient:
    """One shop's Admin API, with its throttle state between requests."""

    def __init__(self, *, shop_domain: str, access_token: str, api_version: str) -> None:
        self.url = endpoint(shop_domain, api_version)
        self.access_token = access_token
        self.stats = CallStats()
        self._available: float | None = None
        self._restore_rate: float | None = None
        self._last_cost: float = 0.0

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The ``data`` of the answer, after waiting out any throttle; raises Transient or Permanent."""
        for _ in range(MAX_THROTTLED_TRIES):
            self._wait_for_budget()
            status, headers, body = self._post({"query": query, "variables": variables})
            payload = _json(body)
            self._remember_cost(payload)
            if status == 429:
                self.stats.throttled += 1
                self._wait(_retry_after(headers) or self._budget_wait(self._last_cost or 1.0), "HTTP 429")
                continue
            if status >= 500:
                raise Transient(f"Shopify answered HTTP {status}")
            if status in (401, 403):
                raise Permanent(f"Shopify refused the access token (HTTP {status}); check the token and its scopes")
            if status == 404:
                raise Permanent("Shopify answered HTTP 404: unknown shop or API version")
            if status >= 400:
                raise Permanent(f"Shopify answered HTTP {status}: {body[:300]!r}")
            if payload is None:
                raise Transient("Shopify answered with a body that is not JSON")
            errors = payload.get("errors") or []
            if any(_code(e) == "THROTTLED" for e in errors):
                self.stats.throttled += 1
                requested = _requested_cost(payload) or self._last_cost or 1.0
                self._wait(self._budget_wait(requested), "THROTTLED")
                self._available = requested  # refilled that far meanwhile: no second wait before resending
                continue
            if errors:
                raise Permanent("GraphQL errors: " + "; ".join(str(e.get("message", e))[:200] for e in errors[:5]))
            return payload.get("data") or {}
        raise Transient("still throttled after waiting; trying again later", retry_after=self._budget_wait(1.0))

    # ---- HTTP -------------------------------------------------------------------------------------------

    def _post(self, body: dict[str, Any]) -> tuple[int, Any, bytes]:
        request = urllib.request.Request(  # noqa: S310  (https:// or the configured base URL, never user input)
            self.url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-Shopify-Access-Token": self.access_token,
            },
        )
        self.stats.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=settings.SHOPIFY_HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read() or b""
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            raise Transient(f"Shopify unreachable: {exc}") from exc

    # ---- cost-based throttle ------------------------------------------------------------------------------

    def _remember_cost(self, payload: dict | None) -> None:
        cost = ((payload or {}).get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            if status:
                self._available = float(status["currentlyAvailable"])
                self._restore_rate = float(status["restoreRate"])
            spent = cost.get("actualQueryCost") or cost.get("requestedQueryCost")
            if spent:
                self._last_cost = float(spent)
        except (KeyError, TypeError, ValueError):
            pass  # an answer without a readable cost: keep what we knew

    def _budget_wait(self, needed: float) -> float:
        """Seconds until the bucket, as last reported, holds ``needed`` points."""
        if self._available is None or not self._restore_rate or self._available >= needed:
            return 0.0
        return (needed - self._available) / self._restore_rate

    def _wait_for_budget(self) -> None:
        wait = self._budget_wait(self._last_cost)
        if wait > 0:
            self._wait(wait, "cost budget")
            self._available = self._last_cost  # restored meanwhile (as far as we know)

    def _wait(self, seconds: float, why: str) -> None:
        if seconds > settings.SHOPIFY_THROTTLE_MAX_WAIT_SECONDS:
            raise Transient(f"throttled ({why}) for {seconds:.1f} s; trying again later", retry_after=seconds)
        self.stats.waited_seconds += seconds
        self.stats.notes.append(f"waited {seconds:.2f} s ({why})")
        if seconds > 0:
            time.sleep(seconds)


def _json(body: bytes) -> dict | None:
    try:
        value = json.loads(body or b"null")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _code(error: Any) -> str | None:
    return ((error or {}).get("extensions") or {}).get("code") if isinstance(error, dict) else None


def _requested_cost(payload: dict) -> float | None:
    value = ((payload.get("extensions") or {}).get("cost") or {}).get("requestedQueryCost")
    return float(value) if isinstance(value, int | float) else None


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the cost budget


# ---- the operations the writeback uses -------------------------------------------------------------------

COLLECTION_UPDATE = """
mutation CollectionSortOrder($input: CollectionInput!) {
  collectionUpdate(input: $input) {
    collection { id sortOrder }
    userErrors { field message }
  }
}
"""

COLLECTION_REORDER = """
mutation CollectionReorder($id: ID!, $moves: [MoveInput!]!) {
  collectionReorderProducts(id: $id, moves: $moves) {
    job { id done }
    userErrors { field message code }
  }
}
"""

JOB = """
query ReorderJob($id: ID!) {
  job(id: $id) { id done }
}
"""

PRODUCT_OPTIONS_REORDER = """
mutation OptionsReorder($productId: ID!, $options: [OptionReorderInput!]!) {
  productOptionsReorder(productId: $productId, options: $options) {
    product { id }
    userErrors { field message code }
  }
}
"""
