"""``manage.py mcp_stdio``: the Dynasort MCP server over stdin/stdout, for a local assistant."""

from __future__ import annotations

import logging
import os
import sys

import anyio
from django.core.management.base import BaseCommand, CommandError

from merchandising.assistant.server import run_stdio


class Command(BaseCommand):
    help = (
        "Serve the Dynasort MCP server over stdio with one API key (--key or DYNASORT_API_KEY); every call "
        "runs through the connector's authentication, plan, rate limit and permission checks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--key", default=None, help="the API key (default: the DYNASORT_API_KEY variable)")
        parser.add_argument(
            "--base-url",
            default=os.environ.get("DYNASORT_BASE_URL", "http://127.0.0.1:8000"),
            help="the platform's address, for the endpoint named in the system prompt",
        )

    def handle(self, *args, key: str | None, base_url: str, **options):
        key = key or os.environ.get("DYNASORT_API_KEY")
        if not key:
            raise CommandError("Give the API key with --key or the DYNASORT_API_KEY environment variable")
        # stdout carries the protocol: logs go to stderr only
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, force=True)
        anyio.run(lambda: run_stdio(key=key, base_url=base_url))
