"""The one error mapping per surface (DESIGN.md "Errors, per surface").

Each surface turns an ``ApiError`` into (status, body) in its vendor's documented
form and says how its rate-limit reset header is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apikeys.exceptions import ApiError, ErrorKind
from apikeys.tokens import KeyKind
from tenants.plans import Surface

K = ErrorKind

_STATUS: dict[ErrorKind, int] = {
    K.UNAUTHORIZED: 401,
    K.PLAN: 403,
    K.PERMISSION: 403,
    K.IP_NOT_ALLOWED: 403,
    K.BAD_REQUEST: 400,
    K.VALIDATION: 400,
    K.NOT_FOUND: 404,
    K.CONFLICT: 409,
    K.METHOD_NOT_ALLOWED: 405,
    K.UNSUPPORTED_MEDIA: 415,
    K.TOO_LARGE: 413,
    K.LENGTH_REQUIRED: 411,
    K.RATE_LIMITED: 429,
    K.IDEMPOTENCY_IN_USE: 409,
    K.IDEMPOTENCY_MISMATCH: 422,
    K.UNAVAILABLE: 503,
    K.SERVER_ERROR: 500,
}


def _with_field_errors(message: str, errors: dict[str, list[str]] | None) -> str:
    if not errors:
        return message
    details = "; ".join(f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in errors.items())
    return f"{message}: {details}"


def _dynasort(err: ApiError) -> tuple[int, dict[str, Any]]:
    codes = {
        K.UNAUTHORIZED: "unauthorized",
        K.PLAN: "permission_denied",
        K.PERMISSION: "permission_denied",
        K.IP_NOT_ALLOWED: "permission_denied",
        K.NOT_FOUND: "not_found",
        K.RATE_LIMITED: "rate_limited",
        K.IDEMPOTENCY_IN_USE: "idempotency_key_in_use",
        K.IDEMPOTENCY_MISMATCH: "idempotency_key_reused",
        K.METHOD_NOT_ALLOWED: "invalid_action",
        K.UNAVAILABLE: "server_error",
        K.SERVER_ERROR: "server_error",
    }
    status = _STATUS[err.kind]
    if err.kind in (K.VALIDATION, K.CONFLICT):
        status = 400
    code = err.code or codes.get(err.kind, "invalid_params")
    return status, {"error": True, "message": _with_field_errors(err.message, err.errors), "code": code}


def _sortillus(err: ApiError) -> tuple[int, dict[str, Any]]:
    status = _STATUS[err.kind]
    if err.kind in (K.VALIDATION, K.CONFLICT):
        status = 422
    body: dict[str, Any] = {"error": err.message}
    if err.kind == K.UNAUTHORIZED:
        body["error"] = "Invalid access token"
    if status == 422 and err.errors is not None:
        body["errors"] = err.errors
    body.update(err.extra)
    return status, body


_SHOPISYNC_CODES = {
    K.UNAUTHORIZED: "INVALID_API_KEY",
    K.PLAN: "INSUFFICIENT_PERMISSIONS",
    K.PERMISSION: "INSUFFICIENT_PERMISSIONS",
    K.IP_NOT_ALLOWED: "IP_NOT_ALLOWED",
    K.BAD_REQUEST: "VALIDATION_ERROR",
    K.VALIDATION: "VALIDATION_ERROR",
    K.NOT_FOUND: "NOT_FOUND",
    K.CONFLICT: "CONFLICT",
    K.METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
    K.UNSUPPORTED_MEDIA: "UNSUPPORTED_MEDIA_TYPE",
    K.TOO_LARGE: "PAYLOAD_TOO_LARGE",
    K.LENGTH_REQUIRED: "LENGTH_REQUIRED",
    K.RATE_LIMITED: "RATE_LIMIT_EXCEEDED",
    K.IDEMPOTENCY_IN_USE: "IDEMPOTENCY_KEY_IN_USE",
    K.IDEMPOTENCY_MISMATCH: "IDEMPOTENCY_KEY_REUSED",
    K.UNAVAILABLE: "SERVICE_UNAVAILABLE",
    K.SERVER_ERROR: "INTERNAL_ERROR",
}


def _shopisync(err: ApiError) -> tuple[int, dict[str, Any]]:
    status = _STATUS[err.kind]
    if err.kind == K.VALIDATION:
        status = 400
    body: dict[str, Any] = {"error": err.message, "code": err.code or _SHOPISYNC_CODES[err.kind]}
    if err.kind == K.UNAUTHORIZED and err.code is None:
        # the doc's example verbatim; which of missing/malformed/unknown/revoked/expired is not told
        # (a refusal with its own code, e.g. a webhook signature, keeps its own message)
        body["error"] = "Invalid or expired API key"
    if err.errors:
        body["details"] = err.errors
    return status, body


@dataclass(frozen=True)
class SurfaceSpec:
    """How one API surface answers: error envelope, reset header format, rate-limit scope, base path."""

    surface: Surface
    path_prefix: str
    render_error: Callable[[ApiError], tuple[int, dict[str, Any]]]
    reset_format: str  # "unix" or "iso"
    rate_scope: str  # "tenant" (one bucket for all keys of a shop) or "key"
    unauthorized_message: str
    # The key kinds it accepts. A connector key (dyn_sk_) is the one shops paste into AI assistants:
    # it serves the Dynasort connector only, never the other surfaces or key management.
    key_kinds: frozenset[KeyKind] = frozenset({KeyKind.STANDARD})


MERCHANDISING = SurfaceSpec(
    Surface.MERCHANDISING,
    "/api/v1",
    _dynasort,
    "unix",
    "tenant",
    "Invalid or missing API key",
    key_kinds=frozenset({KeyKind.CONNECTOR, KeyKind.STANDARD}),
)
CATALOG = SurfaceSpec(Surface.CATALOG, "/api/v3", _sortillus, "unix", "key", "Invalid access token")
PRICING = SurfaceSpec(Surface.PRICING, "/api/external/v1", _shopisync, "iso", "key", "Invalid or expired API key")
PLATFORM = SurfaceSpec(Surface.PLATFORM, "/api/platform/v1", _shopisync, "unix", "key", "Invalid or expired API key")

SURFACES: dict[Surface, SurfaceSpec] = {s.surface: s for s in (MERCHANDISING, CATALOG, PRICING, PLATFORM)}


def surface_for_path(path: str) -> SurfaceSpec | None:
    """The surface that owns a request path, or None for pages that are no API (admin, docs, health)."""
    for spec in SURFACES.values():
        if path == spec.path_prefix or path.startswith(spec.path_prefix + "/"):
            return spec
    return None
