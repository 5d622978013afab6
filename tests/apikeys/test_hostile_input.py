"""Hostile bodies and brute force on the shared stack: each is a 4xx in the surface's form."""

from __future__ import annotations

import pytest

from apikeys import tokens
from apikeys.models import ApiKey
from tests.conftest import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apikeys.probe_urls")]

BODIES = {
    "duplicate keys": b'{"a": 1, "a": 2}',
    "NaN": b'{"a": NaN}',
    "Infinity": b'{"a": Infinity}',
    "deeply nested": b"[" * 5000 + b"]" * 5000,
    "nested objects": b'{"a":' * 100 + b"1" + b"}" * 100,
    "invalid UTF-8": b'{"a": "\xff\xfe"}',
    "truncated": b'{"a": ',
    "not JSON": b"<xml/>",
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize("surface", ["catalog", "pricing", "platform"])
def test_hostile_json_is_400(surface, body, keys_a):
    path = {"catalog": "/api/v3/probe", "pricing": "/api/external/v1/probe", "platform": "/api/platform/v1/probe"}
    response = client_for(keys_a.admin.plaintext).generic("PUT", path[surface], body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "error" in response.json()


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_hostile_json_on_dynasort_is_invalid_params(body, keys_a):
    response = client_for(keys_a.connector.plaintext).generic("POST", "/api/v1/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_params"


def test_strings_with_sql_and_html_are_just_data(keys_a):
    payload = {"name": "'; DROP TABLE apikeys_apikey; --", "html": "<script>alert(1)</script>"}
    response = client_for(keys_a.admin.plaintext).put("/api/external/v1/probe", payload, format="json")
    assert response.status_code == 200
    assert response.json()["data"] == payload
    assert ApiKey.objects.exists()


def test_failed_authentication_is_rate_limited_per_client_address(settings, keys_a):
    settings.AUTH_FAILURE_RATE_LIMIT = (5, 60)
    wrong = client_for(tokens.generate(tokens.KeyKind.STANDARD))
    statuses = [wrong.get("/api/external/v1/probe", REMOTE_ADDR="198.51.100.7").status_code for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    limited = wrong.get("/api/external/v1/probe", REMOTE_ADDR="198.51.100.7")
    assert limited.json()["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(limited["Retry-After"]) >= 1
    # another address is not affected, and a valid key from the limited address still works
    assert wrong.get("/api/external/v1/probe", REMOTE_ADDR="198.51.100.8").status_code == 401
    valid = client_for(keys_a.read.plaintext).get("/api/external/v1/probe", REMOTE_ADDR="198.51.100.7")
    assert valid.status_code == 200
