"""Turning any exception raised on an API surface into that surface's error envelope."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from apikeys.exceptions import ApiError, ErrorKind
from apikeys.surfaces import CATALOG, SurfaceSpec
from core.locks import is_deadlock

log = logging.getLogger("apikeys.errors")


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for field, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{field}.{sub}"] = msgs
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub, msgs in _flatten(item).items():
                        out[f"{field}[{index}].{sub}"] = msgs
            else:
                out[str(field)] = [str(m) for m in (value if isinstance(value, list) else [value])]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {"non_field_errors": [str(detail)]}


def to_api_error(exc: BaseException) -> ApiError:
    """The platform-neutral error for any exception (unknown ones become a logged server error)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, drf.ValidationError):
        errors = _flatten(exc.detail)
        return ApiError(ErrorKind.VALIDATION, "Validation failed", errors=errors)
    if isinstance(exc, drf.ParseError):
        return ApiError(ErrorKind.BAD_REQUEST, f"Malformed request body: {exc.detail}")
    if isinstance(exc, drf.AuthenticationFailed | drf.NotAuthenticated):
        return ApiError(ErrorKind.UNAUTHORIZED, str(exc.detail))
    if isinstance(exc, drf.PermissionDenied):
        return ApiError(ErrorKind.PERMISSION, str(exc.detail))
    if isinstance(exc, drf.NotFound | Http404):
        return ApiError(ErrorKind.NOT_FOUND, "Not found")
    if isinstance(exc, drf.MethodNotAllowed):
        return ApiError(ErrorKind.METHOD_NOT_ALLOWED, str(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType):
        return ApiError(ErrorKind.UNSUPPORTED_MEDIA, str(exc.detail))
    if isinstance(exc, drf.NotAcceptable):
        return ApiError(ErrorKind.BAD_REQUEST, str(exc.detail))
    if isinstance(exc, drf.Throttled):
        return ApiError(ErrorKind.RATE_LIMITED, "Rate limit exceeded", retry_after=int(exc.wait or 1))
    if isinstance(exc, RequestDataTooBig):
        return ApiError(ErrorKind.TOO_LARGE, "Request body too large")
    if isinstance(exc, OperationalError | InterfaceError):
        if is_deadlock(exc):  # the database is up: a deadlock that outlived its one retry (core/locks.py)
            log.error("deadlock: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return ApiError(ErrorKind.UNAVAILABLE, "Conflicting concurrent update; retry", retry_after=1)
        log.error("database unavailable: %s", type(exc).__name__)
        return ApiError(ErrorKind.UNAVAILABLE, "Service temporarily unavailable; retry shortly", retry_after=5)
    if isinstance(exc, DatabaseError):
        log.exception("database error")
        return ApiError(ErrorKind.SERVER_ERROR, "Internal server error")
    if isinstance(exc, drf.APIException):
        return ApiError(ErrorKind.BAD_REQUEST, str(exc.detail))
    log.exception("unhandled error", exc_info=exc)
    return ApiError(ErrorKind.SERVER_ERROR, "Internal server error")


def error_payload(spec: SurfaceSpec, exc: BaseException) -> tuple[int, dict, dict[str, str]]:
    err = to_api_error(exc)
    status, body = spec.render_error(err)
    headers: dict[str, str] = {}
    if err.retry_after:
        headers["Retry-After"] = str(err.retry_after)
    if err.kind == ErrorKind.UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return status, body, headers


def exception_handler(exc: BaseException, context: dict) -> Response:
    """DRF's exception handler for every surface view: the surface comes from the view."""
    view = context.get("view")
    spec = getattr(view, "surface", None) or CATALOG
    status, body, headers = error_payload(spec, exc)
    return Response(body, status=status, headers=headers)


def json_error(spec: SurfaceSpec, exc: BaseException) -> JsonResponse:
    """The same envelope outside DRF (middleware, 404/500 handlers)."""
    status, body, headers = error_payload(spec, exc)
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response
