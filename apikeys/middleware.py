"""Guards in front of every API surface that run before a view is chosen."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404

from apikeys.errors import json_error
from apikeys.surfaces import surface_for_path
from tenants.plans import Surface


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


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
            limit = (
                settings.PLATFORM_MAX_REQUEST_BODY_BYTES
                if spec.surface == Surface.PLATFORM
                else settings.MAX_REQUEST_BODY_BYTES
            )
            if length > limit:
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
