"""Every OpenAPI document (one per surface and the combined one) generates without a single
drf-spectacular warning or error, validates, and documents what the shared stack answers."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from config.urls import SURFACE_PATTERNS
from merchandising.actions import ACTIONS
from merchandising.api.results import RESULTS

SURFACES = list(SURFACE_PATTERNS)
ERROR_COMPONENT = {
    "merchandising": "DynasortError",
    "catalog": "SortillusError",
    "pricing": "ShopiSyncError",
    "platform": "ShopiSyncError",
}
METHODS = {"get", "post", "put", "patch", "delete"}


def generate(surface: str | None) -> tuple[dict, dict, dict]:
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=SURFACE_PATTERNS[surface]) if surface else SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    warnings, errors = dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    return schema, warnings, errors


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


@pytest.fixture(scope="module", params=[*SURFACES, None], ids=[*SURFACES, "combined"])
def generated(request):
    return request.param, *generate(request.param)


def test_schema_generates_without_warnings_or_errors(generated):
    _, schema, warnings, errors = generated
    assert warnings == {}
    assert errors == {}
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document


def test_operation_ids_are_unique_across_the_combined_document():
    schema, *_ = generate(None)
    ids = [op["operationId"] for *_, op in operations(schema)]
    assert len(ids) == len(set(ids))
    assert not any(i[-1].isdigit() and i[-2] == "_" for i in ids)  # spectacular's collision suffixes


@pytest.mark.parametrize("surface", SURFACES)
def test_every_operation_declares_bearer_auth_and_the_surface_error_responses(surface):
    schema, *_ = generate(surface)
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer <key>`.",
    }
    error_ref = f"#/components/schemas/{ERROR_COMPONENT[surface]}"
    for path, method, operation in operations(schema):
        assert operation["security"] == [{"bearerAuth": []}], (path, method)
        codes = set(operation["responses"])
        assert {"401", "403", "429"} <= codes, (path, method)
        if method in {"post", "put", "patch"}:
            assert {"400", "413"} <= codes, (path, method)
        if "requestBody" in operation and surface in ("merchandising", "catalog"):
            assert operation["requestBody"]["required"] is True, (path, method)
        if "{" in path:
            assert "404" in codes, (path, method)
        assert "500" not in codes
        for code, response in operation["responses"].items():
            if code >= "400":
                assert response["content"]["application/json"]["schema"] == {"$ref": error_ref}, (path, code)


@pytest.mark.parametrize("surface", SURFACES)
def test_successes_declare_the_rate_limit_headers_and_429_retry_after(surface):
    schema, *_ = generate(surface)
    reset_type = "string" if surface == "pricing" else "integer"
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            headers = response.get("headers", {})
            if code.startswith("2"):
                for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
                    assert headers[name]["required"] is True, (path, method, name)
                assert headers["X-RateLimit-Reset"]["schema"]["type"] == reset_type
            if code == "429":
                assert headers["Retry-After"]["required"] is True


def test_catalog_validation_failures_are_documented_as_422():
    schema, *_ = generate("catalog")
    for path, method, operation in operations(schema):
        if method in {"post", "patch"}:
            assert "422" in operation["responses"], (path, method)


def test_dynasort_request_is_one_of_the_16_actions_with_a_discriminator_mapping():
    schema, *_ = generate("merchandising")
    operation = schema["paths"]["/api/v1/"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert len(body["oneOf"]) == len(ACTIONS) == 16
    mapping = body["discriminator"]["mapping"]
    assert body["discriminator"]["propertyName"] == "action"
    assert set(mapping) == set(ACTIONS)
    # each mapping target is the component of that action, whose "action" admits only its own name
    for name, target in mapping.items():
        component = schema["components"]["schemas"][target.rsplit("/", 1)[1]]
        enum_ref = component["properties"]["action"]["allOf"][0]["$ref"]
        assert schema["components"]["schemas"][enum_ref.rsplit("/", 1)[1]]["enum"] == [name]
        assert "action" in component["required"]
    assert sorted(o["$ref"] for o in body["oneOf"]) == sorted(mapping.values())


@pytest.mark.django_db
@pytest.mark.parametrize("surface", SURFACES)
def test_served_schema_is_the_generated_one(client, surface):
    response = client.get(f"/api/schema/{surface}/?format=json")
    assert response.status_code == 200
    served = response.json()
    validate_schema(served)
    generated_schema, *_ = generate(surface)
    assert served["paths"].keys() == generated_schema["paths"].keys()
    assert client.get(f"/api/docs/{surface}/").status_code == 200


def test_dynasort_success_body_has_a_result_per_action():
    schema, *_ = generate("merchandising")
    ok = schema["paths"]["/api/v1/"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    result = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]
    assert result["required"] == ["success", "data"]
    assert [branch["title"] for branch in result["properties"]["data"]["anyOf"]] == list(ACTIONS) == list(RESULTS)


def _json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable: true`` becomes an allowed null."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_dynasort_action_answers_its_documented_result(shop, keys_a, action):
    """Each action's doc example answers a body valid against that action's branch of DynasortResult."""
    import jsonschema

    from tests.conftest import client_for
    from tests.merchandising.test_actions import doc_body

    client = client_for(keys_a.connector.plaintext)
    if action in ("sort_collection", "revert_collection"):  # needs an enabled collection with a recipe
        setup = {"action": "update_collection", "collection_id": 123456789, "metrics_id": shop.recipe.pk}
        assert client.post("/api/v1/", {**setup, "revert_sorting": "manual"}, format="json").status_code == 200
        assert (
            client.post(
                "/api/v1/", {"action": "enable_collection", "collection_id": 123456789}, format="json"
            ).status_code
            == 200
        )
    if action == "sort_product":
        assert (
            client.post(
                "/api/v1/", {"action": "enable_product", **doc_body("enable_product", 0)}, format="json"
            ).status_code
            == 200
        )
    response = client.post("/api/v1/", {"action": action, **doc_body(action, shop.recipe.pk)}, format="json")
    assert response.status_code == 200, response.content
    schema, *_ = generate("merchandising")
    branch = next(
        b
        for b in schema["components"]["schemas"]["DynasortResult"]["properties"]["data"]["anyOf"]
        if b["title"] == action
    )
    document = _json_schema({**branch, "components": schema["components"]})
    jsonschema.validate(response.json()["data"], document)


@pytest.mark.parametrize("surface", SURFACES)
def test_no_operation_is_described_by_the_shared_stack_docstring(surface):
    from drf_spectacular.plumbing import get_doc

    from apikeys.views import SurfaceAPIView

    schema, *_ = generate(surface)
    for path, method, operation in operations(schema):
        assert operation.get("description", "") != get_doc(SurfaceAPIView), (path, method)
