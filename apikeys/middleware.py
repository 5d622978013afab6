"""Guards in front of every API surface that run before a view is chosen."""

from __future__ import annotations

import io
import json
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.utils.http import parse_header_parameters
from rest_framework.exceptions import UnsupportedMediaType

from apikeys.errors import error_payload, json_error
from apikeys.exceptions import ApiError, BadRequest, ErrorKind
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
    if spec is None:  # Django's own limit (None switches it off: the platform's limit still bounds a read)
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or settings.PLATFORM_MAX_REQUEST_BODY_BYTES
    if spec.surface == Surface.PLATFORM:
        return settings.PLATFORM_MAX_REQUEST_BODY_BYTES
    return settings.MAX_REQUEST_BODY_BYTES


def refused_charset(content_type: str) -> str | None:
    """The charset a Content-Type names when it is not one a request may use (FORM_CHARSETS), else None."""
    _, params = parse_header_parameters(content_type)
    label = params.get("charset")
    if label is not None and charset_name(label) not in FORM_CHARSETS:
        return label
    return None


def _charset_refusal(path: str, content_type: str, label: str) -> tuple[int, dict[str, str], bytes]:
    spec = surface_for_path(path)
    if spec is None:
        return 415, {"Content-Type": "text/plain; charset=utf-8"}, b"Unsupported charset"
    status, body, headers = error_payload(
        spec, UnsupportedMediaType(f"{content_type.split(';')[0]}; charset={label[:40]}")
    )
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


class RequestGuardWSGIMiddleware:
    """WSGI middleware around Django (config/wsgi.py), for what must be decided before Django builds a request.

    - A charset that is no text encoding (Content-Type ``...; charset=rot13``): Django decodes the query string
      with it while constructing the request, before any middleware runs, and fails (a 500 page of the server);
      it is refused here with a 415 (in the surface's form on an API path).
    - A body sent with ``Transfer-Encoding: chunked`` and no Content-Length: Django reads exactly CONTENT_LENGTH
      bytes (none when it is missing), so such a body was read as empty and a ShopiSync PUT answered 200 having
      changed nothing. It is read here, at most one byte more than the path's body limit, and handed on with
      its Content-Length; a body over the limit is then refused as any other (413), so no more than limit + 1
      bytes are ever held. Only a server that marks the input as terminated (``wsgi.input_terminated``:
      gunicorn, which de-chunks) can be read to its end safely; without it SurfaceGuardMiddleware answers 411.
    """

    CHUNK = 64 * 1024

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        content_type = environ.get("CONTENT_TYPE", "")
        label = refused_charset(content_type) if "charset" in content_type.lower() else None
        if label is not None:
            status, headers, body = _charset_refusal(environ.get("PATH_INFO", ""), content_type, label)
            start_response(
                f"{status} {HTTPStatus(status).phrase}", [*headers.items(), ("Content-Length", str(len(body)))]
            )
            return [body]
        chunked = environ.get("HTTP_TRANSFER_ENCODING") and not environ.get("CONTENT_LENGTH")
        if chunked and environ.get("wsgi.input_terminated"):
            limit = body_limit(environ.get("PATH_INFO", ""))
            stream, body = environ["wsgi.input"], bytearray()
            while len(body) <= limit:
                chunk = stream.read(min(self.CHUNK, limit + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)


class RequestCharsetMiddleware:
    """The same charset check for a request that reached Django without RequestGuardWSGIMiddleware (the test
    client, ASGI), before Django or DRF decode a body with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        label = refused_charset(request.META.get("CONTENT_TYPE", ""))
        if label is not None:
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
            if request.META.get("HTTP_TRANSFER_ENCODING") and not request.META.get("CONTENT_LENGTH"):
                # a body the server could not de-chunk (see RequestGuardWSGIMiddleware) would be read as empty
                return json_error(spec, ApiError(ErrorKind.LENGTH_REQUIRED, "Send the body with a Content-Length"))
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
        if spec is not None and response.status_code == 400 and not _is_json(response):
            # Django's own 400 (e.g. a Host outside ALLOWED_HOSTS) is its HTML debug page with DEBUG on
            return json_error(spec, BadRequest("Bad request"))
        return response

    def process_exception(self, request, exception):
        spec = surface_for_path(request.path_info)
        if spec is not None and isinstance(exception, OperationalError | InterfaceError | RequestDataTooBig):
            return json_error(spec, exception)
        return None
