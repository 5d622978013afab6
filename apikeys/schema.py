"""OpenAPI generation for the API surfaces (drf-spectacular).

Errors and rate limits come from the shared stack (``apikeys.views``, ``apikeys.surfaces``), not
from each view, so their documentation is derived here once per surface too: every operation of a
``SurfaceAPIView`` gets the error responses the stack can give it, each in that surface's body form,
and the ``X-RateLimit-*`` headers. Views declare only their success bodies (and may add error codes
of their own, whose body is replaced by the surface's form so it cannot drift).
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from tenants.plans import Surface


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.auth.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer <key>`."}


# ---- the error bodies of apikeys.surfaces, one component per form ------------------------------


class DynasortErrorSerializer(serializers.Serializer):
    error = serializers.BooleanField()
    message = serializers.CharField()
    code = serializers.ChoiceField(
        choices=[
            "unauthorized",
            "rate_limited",
            "permission_denied",
            "invalid_action",
            "invalid_params",
            "not_found",
            "server_error",
            # platform extension: only a request that sends an Idempotency-Key can get these
            "idempotency_key_in_use",
            "idempotency_key_reused",
        ]
    )

    class Meta:
        ref_name = "DynasortError"


def field_messages(help_text: str) -> serializers.DictField:
    """Validation messages per field (``{"field": ["message", ...]}``), the one form in which error bodies and
    rejected bulk items word them."""
    return serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False, help_text=help_text
    )


class SortillusErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    errors = field_messages("422 only: the messages per field")

    class Meta:
        ref_name = "SortillusError"


class ShopiSyncErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    code = serializers.CharField(help_text="e.g. VALIDATION_ERROR, INVALID_API_KEY, NOT_FOUND, RATE_LIMIT_EXCEEDED")
    details = field_messages("validation errors only: the messages per field")

    class Meta:
        ref_name = "ShopiSyncError"


ERROR_SERIALIZERS: dict[Surface, type[serializers.Serializer]] = {
    Surface.MERCHANDISING: DynasortErrorSerializer,
    Surface.CATALOG: SortillusErrorSerializer,
    Surface.PRICING: ShopiSyncErrorSerializer,
    Surface.PLATFORM: ShopiSyncErrorSerializer,
}

_DESCRIPTIONS = {
    "400": "Malformed or invalid request",
    "401": "Missing, malformed, unknown, revoked or expired API key",
    "403": "The shop's plan, the key's permission or its IP allowlist refuses the request",
    "404": "No such object in this shop",
    "413": "Request body larger than MAX_REQUEST_BODY_BYTES",
    "409": "The object's state does not allow this, or a request with this Idempotency-Key still runs",
    "422": "Validation failed (per-field messages in `errors`), or the Idempotency-Key was used with another body",
    "429": "Rate limit exceeded; retry after `Retry-After` seconds",
}
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_IDEMPOTENT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}  # where Idempotency-Key applies (apikeys/idempotency.py)


class SurfaceAutoSchema(AutoSchema):
    """AutoSchema that documents what the shared surface stack answers on every operation."""

    def _surface(self) -> Surface | None:
        spec = getattr(self.view, "surface", None)
        return getattr(spec, "surface", None)

    def get_description(self) -> str:
        description = super().get_description()
        # a view without a docstring of its own inherits the stack's (SurfaceAPIView and its per-surface
        # bases): that describes our internals, not the operation
        for base in type(self.view).__mro__[1:]:
            if base.__doc__ and description == get_doc(base) and not type(self.view).__dict__.get("__doc__"):
                return ""
        return description

    def _get_parameters(self):
        parameters = super()._get_parameters()
        if self._surface() is not None and self.method in _IDEMPOTENT_METHODS:
            parameters.append(
                {
                    "in": "header",
                    "name": "Idempotency-Key",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
                    "description": "Run this request at most once: a repeat with the same key and body gets the "
                    "first answer again (with Idempotent-Replayed: true) for 24 hours; the same key while the "
                    "first still runs is a 409, with another body a 422.",
                }
            )
        return parameters

    def _error_codes(self, surface: Surface) -> set[str]:
        codes = {"401", "403", "429"}
        params = self._get_parameters()
        if self.method in _IDEMPOTENT_METHODS:
            codes |= {"400", "409", "422"}  # a malformed Idempotency-Key, a key in use, a key reused
        has_query = any(p.get("in") == "query" for p in params)
        if self.method in _BODY_METHODS:
            codes |= {"400", "413"}
        if has_query:
            codes.add("400")
        if any(p.get("in") == "path" for p in params) or surface == Surface.MERCHANDISING:
            codes.add("404")
        if surface == Surface.CATALOG and (has_query or self.method in _BODY_METHODS):
            codes.add("422")  # Sortillus answers validation failures with 422, a missing wrapper with 400
        return codes

    def _get_response_bodies(self, direction="response"):
        surface = self._surface()
        if surface is None:
            return super()._get_response_bodies(direction)
        # get_response_serializers() is what @extend_schema overrides, so the merge happens here
        declared = self.get_response_serializers()
        if not isinstance(declared, dict):
            declared = {"201" if self._is_create_operation() else "200": declared}
        error = ERROR_SERIALIZERS[surface]
        codes = self._error_codes(surface)
        responses: dict[str, dict] = {}
        descriptions = dict(_DESCRIPTIONS)
        for code, response in declared.items():
            code = str(code)
            if code >= "500":
                continue  # a 500 is a bug, not part of the contract
            if code >= "400":  # an error's body is the surface's, whatever a view declared
                codes.add(code)
                if isinstance(response, OpenApiResponse) and response.description:
                    descriptions[code] = response.description
                continue
            responses[code] = self._get_response_for_code(response, code, direction=direction)
        for code in sorted(codes):
            response = OpenApiResponse(error, description=descriptions.get(code, ""))
            responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        spec = getattr(self.view, "surface", None)
        if spec is None or status_code == "401":  # a refused key is answered before any rate limiting
            return headers
        success = str(status_code).startswith("2")
        reset = (
            {"type": "string", "format": "date-time", "description": "when the window resets (ISO 8601, UTC)"}
            if spec.reset_format == "iso"
            else {"type": "integer", "description": "when the window resets (Unix timestamp)"}
        )
        rate_headers = {
            "X-RateLimit-Limit": {"type": "integer", "description": "requests allowed in the window"},
            "X-RateLimit-Remaining": {"type": "integer", "description": "requests left in the window"},
            "X-RateLimit-Reset": reset,
        }
        for name, schema in rate_headers.items():
            description = schema.pop("description")
            # required on successes only: a key refused by its plan or IP allowlist, or a client refused for
            # repeated failed authentication, is answered before its rate limit is counted
            headers[name] = {"schema": schema, "description": description, "required": success}
        if status_code == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "seconds to wait before retrying",
                "required": True,
            }
        return headers

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        # the apps' StrictSerializer bases refuse unknown keys with a 400/422; say so, or clients (and
        # fuzzers) take extra properties for allowed
        if direction == "request" and any(c.__name__ == "StrictSerializer" for c in type(serializer).__mro__):
            schema["additionalProperties"] = False
        return schema

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        # Dynasort needs its "action" and Sortillus answers a body without its parameters with 400 (the
        # documented "missing wrapper" case), so there a body is required even when every field is
        # optional; ShopiSync and platform bodies are required exactly when a field is (an empty update
        # is a valid no-op).
        if body and self._surface() in (Surface.MERCHANDISING, Surface.CATALOG):
            body["required"] = True
        return body
