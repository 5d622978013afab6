"""The vendor documents (specs/*.txt) as clients read them: documented requests, documented answers.

The per-action examples and the per-endpoint bodies are covered next to each app (tests/merchandising/
test_actions.py DOC_EXAMPLES, tests/pricing/test_api.py test_documented_*, tests/catalog/*documented*);
this file covers what the documents promise across endpoints: the exact curl of each document, the
error examples verbatim, and the headers "every response" carries.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from apikeys import services as key_services
from apikeys.models import ApiKey
from tests.conftest import client_for
from tests.pricing.conftest import priced_product

pytestmark = pytest.mark.django_db

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def assert_unix_reset(response) -> None:
    reset = int(response["X-RateLimit-Reset"])
    assert time.time() - 1 <= reset <= time.time() + 3601


def assert_iso_reset(response) -> None:
    value = response["X-RateLimit-Reset"]
    assert value.endswith("Z")
    reset = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert reset.tzinfo is not None and reset.astimezone(UTC).timestamp() >= time.time() - 1


# ---- Dynasort connector ----------------------------------------------------------------------------


def test_dynasort_documented_curl_answers_the_success_envelope_with_rate_headers(shop, keys_a):
    # curl -X POST .../api/v1/ -H "Authorization: Bearer dyn_sk_..." -H "Content-Type: application/json"
    #      -d '{"action": "list_collections"}'
    response = client_for(None).post(
        "/api/v1/",
        data='{"action": "list_collections"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys_a.connector.plaintext}",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    # "Returns an array of collections with ID, title, enabled status, current recipe, product count, and
    # last sort time."
    assert [c["id"] for c in body["data"]] == [123456789, 987654321]
    for collection in body["data"]:
        assert {"id", "title", "enabled", "recipe", "product_count", "last_sorted_at"} <= set(collection)
    assert response["X-RateLimit-Limit"] == "60"
    assert response["X-RateLimit-Remaining"] == "59"
    assert_unix_reset(response)


@pytest.mark.parametrize(
    ("body", "key", "status", "code"),
    [
        ({"action": "no_such_action"}, "connector", 400, "invalid_action"),
        ({"action": "get_collection"}, "connector", 400, "invalid_params"),
        ({"action": "get_collection", "collection_id": 1}, "connector", 404, "not_found"),
        ({"action": "enable_collection", "collection_id": 123456789}, "read", 403, "permission_denied"),
    ],
)
def test_dynasort_every_response_carries_the_rate_headers_and_the_error_envelope(shop, keys_a, body, key, status, code):
    response = client_for(getattr(keys_a, key).plaintext).post("/api/v1/", body, format="json")
    assert response.status_code == status
    payload = response.json()
    assert set(payload) == {"error", "message", "code"}
    assert payload["error"] is True and payload["code"] == code and payload["message"]
    assert response["X-RateLimit-Limit"] == "60"
    assert_unix_reset(response)


def test_dynasort_revoking_a_key_is_immediate_401_unauthorized(shop, keys_a):
    client = client_for(keys_a.connector.plaintext)
    assert client.post("/api/v1/", {"action": "list_recipes"}, format="json").status_code == 200
    key_services.api_key_revoke(key=ApiKey.objects.get(pk=keys_a.connector.key.pk), reason="test")
    response = client.post("/api/v1/", {"action": "list_recipes"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized" and response.json()["error"] is True


# ---- ShopiSync external v1 -------------------------------------------------------------------------


def test_shopisync_error_response_example_verbatim():
    response = client_for("sk_live_your-api-key-here").get("/api/external/v1/products")
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid or expired API key", "code": "INVALID_API_KEY"}


def test_shopisync_paginated_response_example_shape(tenant_a, keys_a):
    for i in range(3):
        priced_product(tenant_a, external_id=100 + i)
    response = client_for(keys_a.read.plaintext).get("/api/external/v1/products")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["success", "data", "pagination"] and body["success"] is True
    assert body["pagination"] == {"page": 1, "limit": 50, "total": 3, "totalPages": 1}
    assert [p["id"] for p in body["data"]] == [100, 101, 102]


@pytest.mark.parametrize(
    ("method", "path", "data", "key", "status", "code"),
    [
        ("get", "/api/external/v1/products/42", None, "read", 200, None),
        ("get", "/api/external/v1/products?limit=0", None, "read", 400, "VALIDATION_ERROR"),
        ("get", "/api/external/v1/products/999", None, "read", 404, "NOT_FOUND"),
        ("put", "/api/external/v1/products/42", {"active": True}, "read", 403, "INSUFFICIENT_PERMISSIONS"),
        ("get", "/api/external/v1/stats", None, "read", 200, None),
    ],
)
def test_shopisync_every_response_carries_iso_rate_headers(tenant_a, keys_a, method, path, data, key, status, code):
    priced_product(tenant_a, external_id=42)
    client = client_for(getattr(keys_a, key).plaintext)
    response = getattr(client, method)(path, data=data, format="json")
    assert response.status_code == status
    if code:
        body = response.json()
        assert body["code"] == code and isinstance(body["error"], str)
        assert set(body) <= {"error", "code", "details"}
    assert response["X-RateLimit-Limit"] == "1000"
    assert int(response["X-RateLimit-Remaining"]) < 1000
    assert_iso_reset(response)


# ---- Sortillus v3 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v3/products"),
        ("post", "/api/v3/products"),
        ("get", "/api/v3/products/6"),
        ("patch", "/api/v3/products/6"),
        ("post", "/api/v3/products/6/recommend"),
        ("get", "/api/v3/shop/categories"),
        ("post", "/api/v3/shop/categories"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer not-a-token"])
def test_sortillus_missing_or_invalid_token_is_the_documented_401(method, path, authorization):
    client = client_for(None)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    response = getattr(client, method)(path, data={}, format="json", **headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid access token"}
