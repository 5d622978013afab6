"""Function-calling export and the tool schemas: one registry, the same parameters as the connector."""

from __future__ import annotations

import pytest

from merchandising.actions import ACTIONS
from merchandising.assistant import tools
from tests.contracts.test_openapi import generate

URL = "/api/platform/v1/connector/tools"
STRICT = {
    "enable_collection",
    "disable_collection",
    "bulk_toggle_collections",
    "revert_collection",
    "list_recipes",
    "get_product",
    "set_product_boost",
    "disable_product",
    "sort_product",
}


@pytest.mark.django_db
def test_openai_export_is_every_action_strict_only_where_every_parameter_is_required(api, keys_a):
    response = api(keys_a.read.plaintext).get(URL, {"format": "openai"})
    assert response.status_code == 200
    body = response.json()
    assert body["format"] == "openai" and body["endpoint"] == "http://testserver/api/v1/"
    functions = [t["function"] for t in body["tools"]]
    assert [f["name"] for f in functions] == list(ACTIONS)
    assert {f["name"] for f in functions if f["strict"]} == STRICT
    for f, action in zip(functions, ACTIONS.values(), strict=True):
        assert f["parameters"] == tools.input_schema(action)
        assert f["description"].startswith(action.description)
        if f["strict"]:
            assert set(f["parameters"]["required"]) == set(f["parameters"]["properties"])
            assert f["parameters"]["additionalProperties"] is False


@pytest.mark.django_db
def test_anthropic_export_is_every_action_with_its_input_schema(api, keys_a):
    body = api(keys_a.read.plaintext).get(URL, {"format": "anthropic"}).json()
    assert [t["name"] for t in body["tools"]] == list(ACTIONS)
    for tool, action in zip(body["tools"], ACTIONS.values(), strict=True):
        assert set(tool) == {"name", "description", "input_schema"}
        assert tool["input_schema"] == tools.input_schema(action)


@pytest.mark.django_db
def test_openai_is_the_default_format(api, keys_a):
    assert api(keys_a.read.plaintext).get(URL).json()["format"] == "openai"


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"format": "gemini"}, {"format": "OpenAI"}])
def test_an_unknown_format_is_a_validation_error(api, keys_a, query):
    response = api(keys_a.read.plaintext).get(URL, query)
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"
    assert "format" in response.json()["details"]


@pytest.mark.django_db
def test_the_export_needs_a_key_and_is_the_same_for_every_shop(api, keys_a, keys_b):
    assert api(None).get(URL, {"format": "openai"}).status_code == 401
    a = api(keys_a.read.plaintext).get(URL, {"format": "anthropic"}).json()
    b = api(keys_b.read.plaintext).get(URL, {"format": "anthropic"}).json()
    assert a == b  # no shop data: the registry only


def test_tool_schemas_have_the_openapi_request_parameters():
    """The MCP tools and the exports cannot drift from the OpenAPI oneOf: same names, required, types."""
    schema, *_ = generate("merchandising")
    components = schema["components"]["schemas"]
    ref = schema["paths"]["/api/v1/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = components[ref.rsplit("/", 1)[1]]
    for name, target in body["discriminator"]["mapping"].items():
        component = components[target.rsplit("/", 1)[1]]
        properties = {k: v for k, v in component["properties"].items() if k != "action"}
        required = set(component.get("required", [])) - {"action"}
        mine = tools.input_schema(ACTIONS[name])
        assert set(mine["properties"]) == set(properties), name
        assert set(mine["required"]) == required, name
        for prop, spec in properties.items():
            if "type" in spec:
                assert spec["type"] == mine["properties"][prop]["type"], (name, prop)
