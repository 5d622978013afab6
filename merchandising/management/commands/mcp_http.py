"""``manage.py mcp_http``: the Dynasort MCP server over streamable HTTP at /mcp (uvicorn)."""

from __future__ import annotations

import uvicorn
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the MCP server at /mcp with uvicorn; --with-django serves the whole site from the same process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--with-django", action="store_true", help="also serve every Django URL (make run)")

    def handle(self, *args, host: str, port: int, workers: int, with_django: bool, **options):
        app = "config.asgi_mcp:combined" if with_django else "config.asgi_mcp:application"
        self.stdout.write(f"MCP server at http://{host}:{port}/mcp" + (" (and the whole site)" if with_django else ""))
        uvicorn.run(app, host=host, port=port, workers=workers, factory=with_django, log_level="info", access_log=False)
