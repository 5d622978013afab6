"""Errors every surface understands. Each surface maps them to its own envelope
in one place (apikeys.surfaces); views and services only raise them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    UNAUTHORIZED = "unauthorized"
    PLAN = "plan"
    PERMISSION = "permission"
    IP_NOT_ALLOWED = "ip_not_allowed"
    BAD_REQUEST = "bad_request"
    VALIDATION = "validation"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA = "unsupported_media"
    TOO_LARGE = "too_large"
    LENGTH_REQUIRED = "length_required"
    RATE_LIMITED = "rate_limited"
    IDEMPOTENCY_IN_USE = "idempotency_in_use"  # the first request with this Idempotency-Key still runs
    IDEMPOTENCY_MISMATCH = "idempotency_mismatch"  # the key was used for another request
    UNAVAILABLE = "unavailable"
    SERVER_ERROR = "server_error"


class ApiError(Exception):
    """A failure to answer in the surface's error form.

    ``code`` overrides the surface's default code for the kind (e.g. Dynasort
    ``invalid_action`` vs ``invalid_params``); ``errors`` carries field errors.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.errors = errors
        self.retry_after = retry_after
        self.extra = extra or {}


class NotFound(ApiError):
    def __init__(self, message: str = "Not found", **kwargs: Any) -> None:
        super().__init__(ErrorKind.NOT_FOUND, message, **kwargs)


class ValidationFailed(ApiError):
    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(ErrorKind.VALIDATION, message, errors=errors, **kwargs)


class BadRequest(ApiError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(ErrorKind.BAD_REQUEST, message, **kwargs)


class Conflict(ApiError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(ErrorKind.CONFLICT, message, **kwargs)
