"""Pieces of the MCP server that need no live server: settings, the stdio command, error mapping."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from merchandising.assistant.gateway import Answer
from merchandising.assistant.server import tool_result, transport_security


def test_transport_security_allows_the_configured_hosts_on_any_port(settings):
    settings.MCP_ALLOWED_HOSTS = ["mcp.example.com"]
    settings.MCP_ALLOWED_ORIGINS = ["https://app.example.com"]
    checks = transport_security()
    assert checks.enable_dns_rebinding_protection is True
    assert checks.allowed_hosts == ["mcp.example.com", "mcp.example.com:*"]
    assert checks.allowed_origins == ["https://app.example.com"]


def test_a_wildcard_host_turns_the_host_check_off(settings):
    settings.MCP_ALLOWED_HOSTS = ["*"]
    assert transport_security().enable_dns_rebinding_protection is False


def test_mcp_stdio_needs_a_key(monkeypatch):
    monkeypatch.delenv("DYNASORT_API_KEY", raising=False)
    with pytest.raises(CommandError, match="DYNASORT_API_KEY"):
        call_command("mcp_stdio")


def test_a_rate_limited_answer_says_when_to_retry():
    body = {"error": True, "message": "Too many requests", "code": "rate_limited"}
    result = tool_result(Answer(429, body, {"Retry-After": "17"}))
    assert result.is_error
    assert result.structured_content == {
        **body,
        "message": "Too many requests; retry after 17 seconds",
        "retry_after": 17,
    }
    assert result.content[0].text == "rate_limited: Too many requests; retry after 17 seconds"


def test_a_success_is_the_connector_body_as_structured_content():
    body = {"success": True, "data": []}
    result = tool_result(Answer(200, body))
    assert not result.is_error and result.structured_content == body
    assert result.content[0].text == '{"success": true, "data": []}'


@pytest.mark.django_db
def test_make_run_prints_the_mcp_url():
    out = io.StringIO()
    call_command("seed_demo", "--keys-only", "--base-url", "http://127.0.0.1:8001", stdout=out)
    assert "MCP server for AI assistants http://127.0.0.1:8001/mcp" in out.getvalue()
