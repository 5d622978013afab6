"""Every MCP message that reads or changes shop data runs through the connector's own stack.

A tool call is handed to the Dynasort connector view (``POST /api/v1/``'s ``ConnectorView``) as a
request built from the MCP request: the same ``Authorization`` header, client address and
``X-Forwarded-For``. So authentication, the IP allowlist, the plan, the per-shop rate limit, the
key's permission, usage counting, tenant scoping and the error envelope are the connector's, not a
copy of them (apikeys.views.SurfaceAPIView); a change there applies here at once. Django's
request signals are sent around the call, so database connections are managed as for any request.

Resources that need the shop (the system prompt) use ``AssistantContextView``, another view on the
same surface and stack. Usage is recorded under the path ``/mcp`` with the tool or resource named
in the query string, so the key's usage shows what the assistant did.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core import signals
from django.core.handlers.wsgi import WSGIRequest
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.permissions import Permission
from apikeys.surfaces import MERCHANDISING
from apikeys.views import SurfaceAPIView
from merchandising import prompt
from merchandising.api.views import ConnectorView

MCP_PATH = "/mcp"


@dataclass(frozen=True)
class Caller:
    """Who sent an MCP message, as the connector sees an HTTP client."""

    authorization: str | None
    remote_addr: str | None
    host: str = "127.0.0.1:8000"
    scheme: str = "http"
    forwarded_for: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status < 400


class AssistantContextView(SurfaceAPIView):
    """The shop the key belongs to and its system prompt (MCP resource ``dynasort://prompt``).
    Not routed: only the MCP server calls it, on the Dynasort surface with its full stack."""

    surface = MERCHANDISING
    method_permissions = {"GET": Permission.READ}

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        base_url = f"{request.scheme}://{request.get_host()}"
        text = prompt.build_prompt(tenant=self.tenant, base_url=base_url)
        return Response({"prompt": text, "store_url": self.tenant.store_url, "name": self.tenant.name})


_connector = ConnectorView.as_view()
_context = AssistantContextView.as_view()


def _environ(caller: Caller, method: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": MCP_PATH,
        "SCRIPT_NAME": "",
        "QUERY_STRING": urlencode(query),
        "SERVER_NAME": "mcp",  # unused: HTTP_HOST is always set
        "SERVER_PORT": "443" if caller.scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": caller.host,
        "wsgi.url_scheme": caller.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
    }
    if caller.remote_addr:
        environ["REMOTE_ADDR"] = caller.remote_addr
    if caller.authorization is not None:
        environ["HTTP_AUTHORIZATION"] = caller.authorization
    if caller.forwarded_for:
        environ["HTTP_X_FORWARDED_FOR"] = caller.forwarded_for
    return environ


def _call(view, environ: dict[str, Any]) -> Answer:
    signals.request_started.send(sender=Caller, environ=environ)
    try:
        response = view(WSGIRequest(environ))
        if hasattr(response, "render"):
            response.render()
        body = json.loads(response.content) if response.content else None
        return Answer(response.status_code, body, dict(response.items()))
    finally:
        signals.request_finished.send(sender=Caller)


def run_action(caller: Caller, name: str, arguments: dict[str, Any] | None) -> Answer:
    """One Dynasort action, exactly as ``POST /api/v1/`` would run it for this caller."""
    payload = {k: v for k, v in (arguments or {}).items() if k != "action"}
    body = json.dumps({"action": name, **payload}).encode()
    return _call(_connector, _environ(caller, "POST", {"tool": name}, body))


def shop_context(caller: Caller, resource: str) -> Answer:
    """The key's shop and system prompt, through the same stack (a read)."""
    return _call(_context, _environ(caller, "GET", {"resource": resource}, b""))
