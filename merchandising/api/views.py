"""The Dynasort connector: one endpoint, the action in the body, dispatched through the registry."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.exceptions import ApiError, ErrorKind
from apikeys.permissions import Permission
from apikeys.schema import DynasortErrorSerializer
from apikeys.surfaces import MERCHANDISING
from apikeys.views import SurfaceAPIView
from merchandising.actions import ACTIONS, Action
from merchandising.api.results import DynasortResult
from merchandising.docs import openapi_examples


def _request_serializer(action: Action) -> type[serializers.Serializer]:
    """The action's parameters plus its ``action`` discriminator, for the OpenAPI document."""
    return type(
        f"{''.join(w.title() for w in action.name.split('_'))}Action",
        (action.params,),
        {"action": serializers.ChoiceField(choices=[action.name], help_text=action.description)},
    )


# The body is the surface's (apikeys.schema puts it on every error); these give each status its meaning.
ERRORS = {
    status: OpenApiResponse(DynasortErrorSerializer, description=text)
    for status, text in [
        (400, "invalid_action or invalid_params"),
        (401, "unauthorized"),
        (403, "permission_denied"),
        (404, "not_found"),
        (429, "rate_limited (Retry-After)"),
        (500, "server_error"),
    ]
}


def action_for(body: object) -> Action:
    """The registered action a request body names, or an ``invalid_action`` error."""
    if not isinstance(body, dict):
        raise ApiError(ErrorKind.BAD_REQUEST, "The request body must be a JSON object", code="invalid_action")
    name = body.get("action")
    if name is None:
        raise ApiError(ErrorKind.BAD_REQUEST, "Missing 'action'", code="invalid_action")
    if not isinstance(name, str):
        raise ApiError(ErrorKind.BAD_REQUEST, "'action' must be a string", code="invalid_action")
    action = ACTIONS.get(name)
    if action is None:
        raise ApiError(ErrorKind.BAD_REQUEST, f"Unknown action: {name[:100]}", code="invalid_action")
    return action


class ConnectorView(SurfaceAPIView):
    """``POST /api/v1/``: every Dynasort action. Read-only actions need ``read``, the others ``write``."""

    surface = MERCHANDISING
    # the action decides; the base view checks at least ``read`` for every request
    method_permissions = {"POST": Permission.READ}

    @extend_schema(
        operation_id="dynasort_action",
        summary="Run a Dynasort action",
        tags=["dynasort"],
        request=PolymorphicProxySerializer(
            component_name="DynasortAction",
            serializers={name: _request_serializer(a) for name, a in ACTIONS.items()},
            resource_type_field_name="action",
        ),
        # one named example per action with the demo shop's ids, so "Try it out" can pick any of them
        examples=openapi_examples(),
        responses={200: DynasortResult, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        action = action_for(request.data)
        self.require_permission(request, action.permission)
        params = action.params(data={k: v for k, v in request.data.items() if k != "action"})
        params.is_valid(raise_exception=True)
        data = action.handler(self.tenant, params.validated_data)
        return Response({"success": True, "data": data})


class ConnectorNoSlashView(ConnectorView):
    """``POST /api/v1`` (the same endpoint without the slash); documented once, under ``/api/v1/``."""

    schema = None
