"""The MCP server driven by the official MCP client (same SDK) over streamable HTTP and stdio."""

from __future__ import annotations

import re
from typing import Any

import pytest

from apikeys import usage
from apikeys.services import api_key_revoke
from merchandising.actions import ACTIONS
from merchandising.assistant import tools
from merchandising.models import Collection, CollectionProduct
from tests.assistants.mcp_live import http_client, in_thread, run, serve_http, stdio_params
from tests.conftest import client_for
from tests.merchandising.test_actions import DOC_EXAMPLES, doc_body

pytestmark = pytest.mark.django_db(transaction=True)

CID = 123456789
# the doc's examples in an order where each write's preconditions hold (sort_product needs the product
# enabled, so disable_product runs last)
ORDER = [n for n in DOC_EXAMPLES if n != "disable_product"] + ["disable_product"]


@pytest.fixture(params=["http", "stdio"])
def connect(request):
    """``connect(key)``: a client of the live server over the transport, sending that key."""
    if request.param == "stdio":
        yield lambda key, **kw: _stdio_client(key, **kw)
        return
    with serve_http() as url:
        yield lambda key, **kw: http_client(url, key, **kw)


def _stdio_client(key: str, **kw):
    from mcp import Client

    return Client(stdio_params(key), **kw)


@pytest.fixture
def http_url():
    with serve_http() as url:
        yield url


def _masked(value: Any) -> Any:
    """Times of the call itself (queued_at, sorted_at, ...) differ between two calls; nothing else may."""
    if isinstance(value, dict):
        return {k: ("<time>" if k.endswith("_at") and v else _masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


async def _call(client, name: str, arguments: dict | None = None):
    return await client.call_tool(name, arguments or {})


def test_lists_the_16_tools_with_their_schemas_and_annotations(connect, keys_a):
    listed = run(connect(keys_a.connector.plaintext), lambda c: c.list_tools())
    by_name = {t.name: t for t in listed.tools}
    assert list(by_name) == list(ACTIONS)
    for name, action in ACTIONS.items():
        tool = by_name[name]
        assert tool.input_schema == tools.input_schema(action)
        assert tool.output_schema == tools.output_schema(action)
        assert tool.description.startswith(action.description)
        hints = tool.annotations
        assert hints.read_only_hint is action.read_only and hints.open_world_hint is False
        if action.read_only:
            assert hints.destructive_hint is None and hints.idempotent_hint is None
        else:
            assert hints.destructive_hint is action.destructive and hints.idempotent_hint is True
    reads = {n for n, t in by_name.items() if t.annotations.read_only_hint}
    assert reads == {"list_collections", "get_collection", "list_recipes", "list_products", "get_product"}
    assert [n for n, t in by_name.items() if t.annotations.destructive_hint is False] == ["disable_product"]
    # same argument names and types as the connector's parameters
    assert set(by_name["update_collection"].input_schema["required"]) == {"collection_id", "metrics_id"}
    assert by_name["bulk_toggle_collections"].input_schema["properties"]["status"]["enum"] == [0, 1]


def test_every_tool_with_the_doc_example_answers_the_http_action_data(connect, keys_a, shop, settings):
    """Each doc example runs over HTTP, then as a tool, then over HTTP again: the tool's structured content
    is the connector's body (writes are compared with the second HTTP call, so both repeat the action)."""
    settings.MERCHANDISING_RATE_LIMIT = (1000, 60)  # one window holds the 3 calls per action
    http = client_for(keys_a.connector.plaintext)

    def post(body: dict):
        return http.post("/api/v1/", body, format="json")

    async def body(client):
        for name in ORDER:
            arguments = doc_body(name, shop.recipe.pk)
            await in_thread(post, {"action": name, **arguments})
            result = await _call(client, name, arguments)
            expected = await in_thread(post, {"action": name, **arguments})
            assert expected.status_code == 200, (name, expected.json())
            assert not result.is_error, (name, result.content)
            if ACTIONS[name].read_only:
                assert result.structured_content == expected.json(), name
            else:
                assert _masked(result.structured_content) == _masked(expected.json()), name
            assert result.content[0].text.startswith('{"success": true')

    run(connect(keys_a.connector.plaintext), body)


def test_a_revoked_key_is_refused(connect, keys_a, shop):
    key = keys_a.connector

    async def body(client):
        first = await _call(client, "list_collections")
        await in_thread(lambda: api_key_revoke(key=key.key, actor="test"))
        second = await _call(client, "list_collections")
        return first, second

    first, second = run(connect(key.plaintext), body)
    assert not first.is_error
    assert second.is_error and second.structured_content["code"] == "unauthorized"
    assert second.content[0].text == "unauthorized: API key revoked"


def test_another_tenants_ids_are_not_found(connect, keys_b, shop):
    async def body(client):
        return (
            await _call(client, "get_collection", {"collection_id": CID}),
            await _call(client, "set_product_boost", {"product_id": CID, "boost": 5}),
            await _call(client, "list_collections"),
        )

    collection, boost, listed = run(connect(keys_b.connector.plaintext), body)
    assert collection.is_error and collection.structured_content["code"] == "not_found"
    assert boost.is_error and boost.structured_content["code"] == "not_found"
    assert listed.structured_content == {"success": True, "data": []}


def test_a_read_only_key_can_look_but_not_change(http_url, keys_a, shop):
    async def body(client):
        return await _call(client, "get_product", {"product_id": CID}), await _call(
            client, "set_product_boost", {"product_id": CID, "boost": 50}
        )

    read, write = run(http_client(http_url, keys_a.read.plaintext), body)
    assert not read.is_error
    assert write.is_error and write.structured_content["code"] == "permission_denied"


def test_the_61st_call_in_a_minute_is_limited_and_says_when_to_retry(http_url, keys_a, shop):
    async def body(client):
        results = [await _call(client, "list_recipes") for _ in range(61)]
        return results

    results = run(http_client(http_url, keys_a.connector.plaintext), body)
    assert not any(r.is_error for r in results[:60])
    refused = results[60]
    assert refused.is_error and refused.structured_content["code"] == "rate_limited"
    assert 1 <= refused.structured_content["retry_after"] <= 60
    assert re.search(r"retry after \d+ seconds", refused.content[0].text)


def test_the_limit_is_the_shops_across_http_and_mcp(http_url, keys_a, shop):
    http = client_for(keys_a.connector.plaintext)
    for _ in range(59):
        assert http.post("/api/v1/", {"action": "list_recipes"}, format="json").status_code == 200

    async def body(client):
        return [await _call(client, "list_recipes") for _ in range(2)]

    last, refused = run(http_client(http_url, keys_a.write.plaintext), body)
    assert not last.is_error and refused.structured_content["code"] == "rate_limited"


def test_a_missing_key_is_unauthorized(http_url, shop):
    result = run(http_client(http_url, None), lambda c: _call(c, "list_collections"))
    assert result.is_error and result.structured_content["code"] == "unauthorized"


def test_calls_are_counted_as_the_keys_usage(http_url, keys_a, shop):
    run(http_client(http_url, keys_a.connector.plaintext), lambda c: _call(c, "list_recipes"))
    recent = usage.recent(str(keys_a.connector.key.lineage_id))
    assert [(r["method"], r["path"], r["status"]) for r in recent] == [("POST", "/mcp?tool=list_recipes", 200)]


def test_dry_run_then_apply_by_plan_id_and_a_stale_plan_is_refused(connect, keys_a, shop):
    Collection.objects.filter(pk=shop.collection.pk).update(recipe=shop.recipe, enabled=True)

    async def body(client):
        preview = await _call(client, "sort_collection", {"collection_id": CID, "dry_run": True})
        plan = preview.structured_content["data"]
        applied = await _call(client, "sort_collection", {"collection_id": CID, "plan_id": plan["plan_id"]})
        again = await _call(client, "sort_collection", {"collection_id": CID, "plan_id": plan["plan_id"]})
        return plan, applied, again

    plan, applied, again = run(connect(keys_a.connector.plaintext), body)
    order = list(
        CollectionProduct.objects.filter(collection=shop.collection)
        .order_by("position")
        .values_list("product__external_id", flat=True)
    )
    assert order == [p["product_id"] for p in plan["products"]]
    assert applied.structured_content["data"]["status"] == "applied"
    assert applied.structured_content["data"]["moves"] == plan["moves"]
    # the order it was computed from has changed (it is now applied): the same plan is stale
    assert again.is_error and again.structured_content["code"] == "invalid_params"
    assert "changed since" in again.structured_content["message"]


def test_resources_are_the_shops_through_the_same_stack(http_url, keys_a, keys_b, shop):
    async def body(client):
        listed = await client.list_resources()
        prompt = await client.read_resource("dynasort://prompt")
        recipes = await client.read_resource("dynasort://recipes")
        reference = await client.read_resource("dynasort://reference")
        review = await client.get_prompt("weekly-merchandising-review", {"focus": "Sale"})
        return listed, prompt, recipes, reference, review

    listed, prompt, recipes, reference, review = run(http_client(http_url, keys_a.connector.plaintext), body)
    assert [str(r.uri) for r in listed.resources] == ["dynasort://prompt", "dynasort://reference", "dynasort://recipes"]
    assert "shop-a.myshopify.com" in prompt.contents[0].text and "sort_collection" in prompt.contents[0].text
    assert '"Best sellers (30 days)"' in recipes.contents[0].text and '"weights"' in recipes.contents[0].text
    assert "`common_sizes`" in reference.contents[0].text and "`us_apparel`" in reference.contents[0].text
    assert "dry_run" in review.messages[0].content.text and "Sale" in review.messages[0].content.text
    other = run(http_client(http_url, keys_b.connector.plaintext), lambda c: c.read_resource("dynasort://prompt"))
    assert "shop-b.myshopify.com" in other.contents[0].text


def test_a_resource_with_shop_data_refuses_a_revoked_key(http_url, keys_a, shop):
    from mcp.shared.exceptions import MCPError

    api_key_revoke(key=keys_a.connector.key, actor="test")

    async def body(client):
        try:
            await client.read_resource("dynasort://recipes")
        except MCPError as exc:
            return exc
        return None

    refused = run(http_client(http_url, keys_a.connector.plaintext), body)
    assert isinstance(refused, MCPError) and str(refused) == "unauthorized: API key revoked"
    assert refused.error.data["code"] == "unauthorized"


def test_a_foreign_host_is_refused_dns_rebinding(http_url):
    import httpx2

    response = httpx2.post(
        http_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Host": "attacker.example", "Accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 421


@pytest.mark.skipif(
    not hasattr(__import__("apikeys.permissions").permissions, "CONNECTOR_PERMISSIONS"),
    reason="read-only connector keys come with the key-hardening branch (connector keys are admin before it)",
)
def test_a_read_only_connector_key_is_refused_on_a_write(connect, make_key, keys_a, tenant_a, shop):
    from apikeys.tokens import KeyKind

    api_key_revoke(key=keys_a.connector.key, actor="test")  # one active connector key per shop
    read_only = make_key(tenant_a, "read", kind=KeyKind.CONNECTOR)

    async def body(client):
        return (
            await _call(client, "get_collection", {"collection_id": CID}),
            await _call(client, "set_product_boost", {"product_id": CID, "boost": 50}),
        )

    read, write = run(connect(read_only.plaintext), body)
    assert not read.is_error
    assert write.is_error and write.structured_content["code"] == "permission_denied"
