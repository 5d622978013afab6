"""404 and 500 pages: JSON in the surface's own error form under an API path."""

from django.http import Http404, HttpResponseNotFound, HttpResponseServerError

from apikeys.errors import json_error
from apikeys.surfaces import surface_for_path


def not_found(request, exception=None):
    spec = surface_for_path(request.path_info)
    if spec is None:
        return HttpResponseNotFound("Not found")
    return json_error(spec, Http404())


def server_error(request):
    spec = surface_for_path(request.path_info)
    if spec is None:
        return HttpResponseServerError("Server error")
    return json_error(spec, RuntimeError("unhandled"))
