"""The Dynasort MCP server: the 16 connector actions as tools, reference resources and a review prompt.

Built on the official SDK's low-level ``Server`` (``mcp`` 2.x): its tools are generated from the
action registry with explicit JSON Schemas, which the decorator-based ``MCPServer`` would re-derive
from Python signatures. Every tool call and every resource with shop data runs through the
connector's stack (merchandising.assistant.gateway). Served two ways: streamable HTTP at ``/mcp``
(``asgi_app``; stateless, JSON answers, so any replica answers any message) and stdio (``run_stdio``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
import mcp_types as types
from django.conf import settings
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from starlette.applications import Starlette

from merchandising.actions import ACTIONS
from merchandising.assistant import content, tools
from merchandising.assistant.gateway import Answer, Caller, run_action, shop_context

SERVER_NAME = "dynasort"
INSTRUCTIONS = (
    "Dynasort merchandising for one shop (the API key decides which): collections sorted by recipes, "
    "product boosts and variant option sorting. Read before you write; before sort_collection, preview "
    "with dry_run true and apply the preview with its plan_id once the user agrees. Read the resource "
    "dynasort://prompt for the full guide. Limit: 60 calls per minute for the shop."
)

PROMPT_URI = "dynasort://prompt"
REFERENCE_URI = "dynasort://reference"
RECIPES_URI = "dynasort://recipes"
WEEKLY_REVIEW = "weekly-merchandising-review"

CallerFor = Callable[[ServerRequestContext[Any, Any]], Caller]


def tool_list() -> list[types.Tool]:
    return [
        types.Tool(
            name=action.name,
            title=action.title,
            description=tools.description(action),
            input_schema=tools.input_schema(action),
            output_schema=tools.output_schema(action),
            annotations=types.ToolAnnotations(
                title=action.title,
                read_only_hint=action.read_only,
                destructive_hint=None if action.read_only else action.destructive,
                idempotent_hint=None if action.read_only else action.idempotent,
                open_world_hint=False,
            ),
        )
        for action in ACTIONS.values()
    ]


def tool_result(answer: Answer) -> types.CallToolResult:
    """The connector's body as structured content; an error keeps its Dynasort code and message, and a
    rate-limit refusal says when to retry."""
    body = answer.body if isinstance(answer.body, dict) else {"error": True, "message": str(answer.body)}
    if answer.ok:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(body))], structured_content=body
        )
    retry_after = answer.headers.get("Retry-After")
    if retry_after:
        body = {**body, "retry_after": int(retry_after)}
        body["message"] = f"{body['message']}; retry after {retry_after} seconds"
    text = f"{body.get('code', 'server_error')}: {body.get('message', '')}"
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=body, is_error=True
    )


def _refused(answer: Answer) -> MCPError:
    body = answer.body if isinstance(answer.body, dict) else {}
    code = body.get("code", "server_error")
    message = f"{code}: {body.get('message', 'refused')}"
    if answer.headers.get("Retry-After"):
        message += f"; retry after {answer.headers['Retry-After']} seconds"
    return MCPError(types.INVALID_REQUEST if answer.status < 500 else types.INTERNAL_ERROR, message, body)


def build_server(caller_for: CallerFor) -> Server:
    """The server; ``caller_for`` tells who sent a message (its key, address and host)."""
    tool_names = set(ACTIONS)

    async def list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in tool_names:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name[:100]}")
        caller = caller_for(ctx)
        answer = await anyio.to_thread.run_sync(partial(run_action, caller, params.name, params.arguments))
        return tool_result(answer)

    async def list_resources(ctx, params) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    name="system-prompt",
                    title="Dynasort system prompt",
                    uri=PROMPT_URI,
                    description="This shop's guide to every action (the connector system prompt)",
                    mime_type="text/markdown",
                ),
                types.Resource(
                    name="reference",
                    title="Sort types, size systems, revert orders",
                    uri=REFERENCE_URI,
                    description="What each option sort type, size system, revert order and recipe metric means",
                    mime_type="text/markdown",
                ),
                types.Resource(
                    name="recipes",
                    title="Recipes and their weights",
                    uri=RECIPES_URI,
                    description="This shop's sorting recipes with their weights and days windows (list_recipes)",
                    mime_type="application/json",
                ),
            ]
        )

    async def read_resource(ctx, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri == REFERENCE_URI:
            text, mime = content.reference_markdown(), "text/markdown"
        elif uri == PROMPT_URI:
            answer = await anyio.to_thread.run_sync(partial(shop_context, caller_for(ctx), "prompt"))
            if not answer.ok:
                raise _refused(answer)
            text, mime = answer.body["prompt"], "text/markdown"
        elif uri == RECIPES_URI:
            answer = await anyio.to_thread.run_sync(partial(run_action, caller_for(ctx), "list_recipes", {}))
            if not answer.ok:
                raise _refused(answer)
            text, mime = json.dumps(answer.body["data"], indent=1), "application/json"
        else:
            raise MCPError(types.INVALID_PARAMS, f"Unknown resource: {uri[:200]}")
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)])

    async def list_prompts(ctx, params) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=WEEKLY_REVIEW,
                    title="Weekly merchandising review",
                    description="Review collections, recipes, boosts and sort previews; propose changes, apply "
                    "only what you approve",
                    arguments=[
                        types.PromptArgument(
                            name="focus", description="optional: collections or themes to look at first", required=False
                        )
                    ],
                )
            ]
        )

    async def get_prompt(ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != WEEKLY_REVIEW:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name[:100]}")
        focus = (params.arguments or {}).get("focus")
        return types.GetPromptResult(
            description="Weekly merchandising review",
            messages=[
                types.PromptMessage(
                    role="user", content=types.TextContent(type="text", text=content.weekly_review(focus))
                )
            ],
        )

    return Server(
        SERVER_NAME,
        version="1.0",
        title="Dynasort merchandising",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=lambda name: tools.input_schema(ACTIONS[name]) if name in ACTIONS else None,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )


# ---- streamable HTTP ------------------------------------------------------------------------


def http_caller(ctx: ServerRequestContext[Any, Any]) -> Caller:
    """The HTTP request of the message: its Authorization header, peer address and host."""
    request = ctx.request
    if request is None:  # pragma: no cover  (the HTTP transport always attaches its request)
        return Caller(authorization=None, remote_addr=None)
    client = request.client
    return Caller(
        authorization=request.headers.get("authorization"),
        remote_addr=client.host if client else None,
        host=request.headers.get("host", "127.0.0.1"),
        scheme=request.url.scheme,
        forwarded_for=request.headers.get("x-forwarded-for"),
    )


def transport_security() -> TransportSecuritySettings:
    """DNS-rebinding protection: the Host must be one the platform serves (MCP_ALLOWED_HOSTS, by default
    ALLOWED_HOSTS, each with any port) and a browser Origin one of MCP_ALLOWED_ORIGINS."""
    if "*" in settings.MCP_ALLOWED_HOSTS:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = []
    for host in settings.MCP_ALLOWED_HOSTS:
        hosts += [host, f"{host}:*"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=list(settings.MCP_ALLOWED_ORIGINS)
    )


def asgi_app(path: str = "/mcp") -> Starlette:
    """The streamable-HTTP app: stateless (no session to pin to a replica), JSON answers (no SSE)."""
    server = build_server(http_caller)
    return server.streamable_http_app(
        streamable_http_path=path,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(),
        max_request_body_size=settings.MAX_REQUEST_BODY_BYTES,
    )


# ---- stdio ------------------------------------------------------------------------------------


async def run_stdio(*, key: str, base_url: str) -> None:
    """Serve one local assistant over stdin/stdout with one key (as if from 127.0.0.1)."""
    from urllib.parse import urlsplit

    from mcp.server.stdio import stdio_server

    url = urlsplit(base_url)
    caller = Caller(
        authorization=f"Bearer {key}", remote_addr="127.0.0.1", host=url.netloc or "127.0.0.1", scheme=url.scheme
    )
    server = build_server(lambda ctx: caller)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
