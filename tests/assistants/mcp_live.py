"""The MCP server live, for tests that drive it with the official client of the same SDK.

``serve_http`` runs the streamable-HTTP app under uvicorn in a thread of the test process (its tool
calls use their own database connections, so the tests use ``transactional_db``; in-memory SQLite
is shared between threads, so this runs without services too). ``stdio_params`` starts
``manage.py mcp_stdio`` as a subprocess on the test database, which needs PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from django.conf import settings
from django.db import connection
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from merchandising.assistant.server import asgi_app

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_http() -> Iterator[str]:
    """uvicorn serving /mcp on a free loopback port; yields the URL.

    Its calls run in worker threads, each with its own database connection: with CONN_MAX_AGE 0 each is
    closed at the end of its call (Django's request_finished), so none outlives the test database."""
    saved_max_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 0
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(asgi_app("/mcp"), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not started.wait(0.05):  # readiness, not timing: uvicorn sets ``started`` once it listens
        if server.started:
            started.set()
        if not thread.is_alive():
            raise RuntimeError("the MCP server did not start")
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        connection.settings_dict["CONN_MAX_AGE"] = saved_max_age


def stdio_params(key: str) -> StdioServerParameters:
    """``manage.py mcp_stdio`` on the test database and this test's Redis keys."""
    if connection.vendor != "postgresql":
        pytest.skip("the stdio server is another process: it needs the test database on PostgreSQL")
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    env = {
        "DATABASE_URL": f"{base}/{connection.settings_dict['NAME']}",
        "REDIS_URL": settings.REDIS_URL or "",
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DYNASORT_API_KEY": key,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
    }
    return StdioServerParameters(command=sys.executable, args=["manage.py", "mcp_stdio"], cwd=str(ROOT), env=env)


def http_client(url: str, key: str | None, **kwargs: Any) -> Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers)), **kwargs)


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Django work from inside the client's event loop: in a worker thread, its connection closed after."""

    def work() -> Any:
        try:
            return fn(*args)
        finally:
            connection.close()

    return await anyio.to_thread.run_sync(work)


def run(client: Client, body: Callable[[Client], Awaitable[Any]]) -> Any:
    """Open the client, run ``body`` with it and close it, from synchronous test code."""

    async def main() -> Any:
        async with client as c:
            return await body(c)

    return anyio.run(main)
