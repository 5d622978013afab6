"""Guards in front of every API surface that run before a view is chosen."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from rest_framework.exceptions import UnsupportedMediaType

from apikeys.errors import json_error
from apikeys.parsers import JSON_CHARSETS, charset_name
from apikeys.surfaces import surface_for_path
from tenants.plans import Surface


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


# Charsets a request may name on any path: Unicode and the single-byte ones a browser form might use. Django
# decodes query strings and form fields with whatever codec the Content-Type's charset names, so a bz2 or
# zlib "charset" decompressed the body and rot13, base64, hex, punycode or undefined failed with a 500.
FORM_CHARSETS = JSON_CHARSETS | {"iso8859-1", "iso8859-15", "cp1252"}


def body_limit(path: str) -> int:
    """The most bytes a request body to ``path`` may have (the surface's limit; Django's elsewhere)."""
    spec = surface_for_path(path)
    if spec is None:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if spec.surface == Surface.PLATFORM:
        return settings.PLATFORM_MAX_REQUEST_BODY_BYTES
    return settings.MAX_REQUEST_BODY_BYTES


class RequestCharsetMiddleware:
    """Refuses a request whose Content-Type names a charset that is no plain text encoding (415), before
    Django or DRF decode anything with it; on an API path in the surface's error form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        label = request.content_params.get("charset")
        if label is not None and charset_name(label) not in FORM_CHARSETS:
            spec = surface_for_path(request.path_info)
            if spec is not None:
                return json_error(spec, UnsupportedMediaType(f"{request.content_type}; charset={label[:40]}"))
            return HttpResponse("Unsupported charset", status=415, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class SurfaceGuardMiddleware:
    """Refuses oversized bodies from Content-Length before anything is read (DRF reads the raw
    stream and would otherwise bypass DATA_UPLOAD_MAX_MEMORY_SIZE), and answers database
    outages on API paths with a 503 in the surface's form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        spec = surface_for_path(request.path_info)
        if spec is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > body_limit(request.path_info):
                return json_error(spec, RequestDataTooBig())
        response = self.get_response(request)
        if spec is not None and response.status_code == 404 and not _is_json(response):
            # a path no route matches (e.g. /products/abc for an integer id): with DEBUG on, Django
            # answers its HTML debug page instead of handler404; clients get the surface's 404 either way
            return json_error(spec, Http404())
        return response

    def process_exception(self, request, exception):
        spec = surface_for_path(request.path_info)
        if spec is not None and isinstance(exception, OperationalError | InterfaceError | RequestDataTooBig):
            return json_error(spec, exception)
        return None
