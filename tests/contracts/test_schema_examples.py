"""Every request example of the OpenAPI documents succeeds against a live demo server, as "Try it out" in
Swagger UI would send it; and every operation that needs input has an example (config/openapi_examples.py,
the Dynasort registry's per-action examples)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from config.openapi_examples import DEMO_RECOMMENDED_PRODUCT, DEMO_RECOMMENDED_PRODUCT_INTERNAL_ID
from merchandising.actions import ACTIONS
from merchandising.docs import SETUP
from tests.contracts.live import DEMO_KEYS

SURFACES = ["merchandising", "catalog", "pricing", "platform"]
# Revocation goes last: the rotate example rotates the same (spare) key first; so do deletions (the store
# connection is disconnected after its other examples ran).
LAST = ("/revoke",)


def _operations(schema: dict) -> list[tuple[str, str, dict]]:
    ops = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    return sorted(ops, key=lambda o: o[0].endswith(LAST) or o[1] == "delete")


def _body_examples(operation: dict) -> dict[str, dict]:
    content = operation.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("examples", {})


@pytest.mark.django_db
@pytest.mark.parametrize("surface", SURFACES)
def test_every_operation_that_takes_input_has_an_example(client, surface):
    schema = client.get(f"/api/schema/{surface}/?format=json").json()
    missing = []
    for path, method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and "example" not in parameter:
                missing.append(f"{method.upper()} {path}: path parameter {parameter['name']}")
        if "requestBody" in operation and not _body_examples(operation):
            missing.append(f"{method.upper()} {path}: request body")
    assert not missing


@pytest.mark.django_db
def test_dynasort_offers_one_named_example_per_action(client):
    schema = client.get("/api/schema/merchandising/?format=json").json()
    examples = _body_examples(schema["paths"]["/api/v1/"]["post"])
    assert [e["value"]["action"] for e in examples.values()] == list(ACTIONS)


def _send(url: str, method: str, key: str, body: object | None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method.upper())  # noqa: S310  (the live server)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.parametrize("surface", SURFACES)
def test_every_schema_example_succeeds_against_the_demo_server(live_demo_server, surface):
    base = live_demo_server.url
    with urllib.request.urlopen(f"{base}/api/schema/{surface}/?format=json") as response:  # noqa: S310
        schema = json.load(response)
    key = DEMO_KEYS["connector" if surface == "merchandising" else "admin"]
    failures, sent = [], 0
    for path, method, operation in _operations(schema):
        url = base + path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", str(parameter["example"]))
        examples = _body_examples(operation)
        bodies = [(name, e["value"]) for name, e in examples.items()] or [("", None)]
        by_action = {e["value"].get("action"): e["value"] for e in examples.values() if isinstance(e["value"], dict)}
        for name, body in bodies:
            # an action that needs another first (sort_product after enable_product), as its example says
            setup = SETUP.get(body.get("action")) if isinstance(body, dict) else None
            if setup:
                _send(url, method, key, by_action[setup])
            status, text = _send(url, method, key, body)
            sent += 1
            if not 200 <= status < 300:
                failures.append(f"{method.upper()} {path} {name}: {status} {text[:300]}")
    assert sent >= len(schema["paths"])
    assert not failures, "\n".join(failures)


def test_the_showcase_product_gets_every_kind_of_recommendation(live_demo_server):
    """The docs' and the schema's recommendation example (catalog.md, config/openapi_examples.py) shows all four
    kinds on the demo shop: same model, bundle, complementary and similar."""
    base, key = live_demo_server.url, DEMO_KEYS["admin"]
    product = f"{base}/api/v3/products/{DEMO_RECOMMENDED_PRODUCT}"
    status, text = _send(product, "get", key, None)
    assert status == 200 and json.loads(text)["sortillus_id"] == DEMO_RECOMMENDED_PRODUCT_INTERNAL_ID
    recommend = f"{base}/api/v3/products/{DEMO_RECOMMENDED_PRODUCT_INTERNAL_ID}/recommend"
    assert 200 <= _send(recommend, "post", key, None)[0] < 300
    recommendations = json.loads(_send(product, "get", key, None)[1])["recommendations"]
    sources = {r["reason_json"]["source"] for r in recommendations}
    assert sources == {"variant_group", "co_purchase", "category_rule", "embedding"}
