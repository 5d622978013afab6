"""400, 404 and 500 pages: JSON in the surface's own error form under an API path."""

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotFound, HttpResponseServerError

from apikeys.errors import json_error
from apikeys.exceptions import BadRequest
from apikeys.surfaces import surface_for_path


def bad_request_error(exception: BaseException | None) -> BaseException:
    """What a 400 from Django itself (a SuspiciousOperation: a Host outside ALLOWED_HOSTS, too many fields)
    says in a surface's form; the client's own Host value is not echoed."""
    if isinstance(exception, RequestDataTooBig):
        return exception  # the surface's 413
    if isinstance(exception, DisallowedHost):
        return BadRequest("Invalid Host header")
    return BadRequest("Bad request")


def bad_request(request, exception=None):
    spec = surface_for_path(request.path_info)
    if spec is None:
        return HttpResponseBadRequest("Bad request")
    return json_error(spec, bad_request_error(exception))


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
