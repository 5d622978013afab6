"""ASGI entry of the MCP server: ``uvicorn config.asgi_mcp:application`` serves streamable HTTP at /mcp.

``combined`` also serves the whole Django site from the same process (what ``make run`` uses, so
the REST surfaces and /mcp share one address); production runs gunicorn for REST and this app
alone beside it (compose.yaml service ``mcp``).
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.routing import Mount  # noqa: E402

from merchandising.assistant.server import asgi_app  # noqa: E402

application = asgi_app("/mcp")


def combined() -> Starlette:
    """/mcp from the MCP app, everything else from Django (one process, one port)."""
    mcp = asgi_app("/mcp")
    return Starlette(routes=[*mcp.routes, Mount("/", app=get_asgi_application())], lifespan=mcp.router.lifespan_context)
