"""The docs page, the OpenAPI document and the prompt are generated from the one registry."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from merchandising.actions import ACTIONS
from merchandising.docs import DEMO_CONNECTOR_KEY
from merchandising.prompt import parameters
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "merchandising.md"


def test_docs_page_has_every_action_parameter_and_a_curl_example():
    text = DOC.read_text()
    sections = re.split(r"^#### ", text, flags=re.M)[1:]
    assert [s.split("`")[1] for s in sections] == list(ACTIONS)
    for section, (name, action) in zip(sections, ACTIONS.items(), strict=True):
        assert action.description in section
        for param, *_ in parameters(action):
            assert f"| `{param}` |" in section, (name, param)
        assert f'"action": "{name}"' in section and DEMO_CONNECTOR_KEY in section


def test_docs_curl_examples_work_against_the_demo_shop(settings):
    """Seed the demo shop (tenant, keys, a small generated shop), regenerate the
    docs for it and run every curl body with the demo connector key."""
    settings.MERCHANDISING_RATE_LIMIT = (1000, 60)
    call_command("seed_demo", "--keys-only", "--allow-production", stdout=io.StringIO())
    from tenants.models import Tenant

    tenant = Tenant.objects.get(domain="demo.myshopify.com")
    from demo.generator import generate

    generate(tenant=tenant, products=20, seed=42, lines=200, stdout=io.StringIO(), progress=False)
    out = io.StringIO()
    call_command("connector_docs", "--tenant", "demo.myshopify.com", stdout=out)
    bodies = [json.loads(b) for b in re.findall(r"-d '(\{.*\})'", out.getvalue())]
    actions = [b for b in bodies if "action" in b]
    # every action once, in the registry's order (sort_product's block also runs enable_product first)
    assert list(dict.fromkeys(b["action"] for b in actions)) == list(ACTIONS)
    client = client_for(DEMO_CONNECTOR_KEY)
    for body in actions:
        if body["action"] == "sort_collection":
            enable = {"action": "enable_collection", "collection_id": body["collection_id"]}
            assert client.post("/api/v1/", enable, format="json").status_code == 200
        if body["action"] == "revert_collection":
            update = {**actions[4], "collection_id": body["collection_id"], "revert_sorting": "manual"}
            assert client.post("/api/v1/", update, format="json").status_code == 200
        if body["action"] == "sort_product":
            enable = next(b for b in actions if b["action"] == "enable_product")
            assert client.post("/api/v1/", enable, format="json").status_code == 200
        response = client.post("/api/v1/", body, format="json")
        assert response.status_code == 200, (body, response.content)


def test_openapi_request_body_is_one_of_by_action_with_discriminator(client):
    response = client.get("/api/schema/merchandising/?format=json")
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    body = schema["components"]["schemas"][ref]
    assert len(body["oneOf"]) == 16
    assert body["discriminator"]["propertyName"] == "action"
    assert set(body["discriminator"]["mapping"]) == set(ACTIONS)
    assert {"400", "401", "403", "404", "429"} <= set(operation["responses"])
