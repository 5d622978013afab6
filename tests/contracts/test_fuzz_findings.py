"""Regressions for what schema fuzzing (schemathesis) found, each pinned by a plain test."""

from __future__ import annotations

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/external/v1/products/null,null", {"error": "Not found", "code": "NOT_FOUND"}),
        ("/api/external/v1/price-history/abc", {"error": "Not found", "code": "NOT_FOUND"}),
        ("/api/v3/products/abc", {"error": "Not found"}),
        ("/api/platform/v1/keys/abc/usage", {"error": "Not found", "code": "NOT_FOUND"}),
    ],
)
def test_a_path_no_route_matches_is_the_surface_json_404_even_in_debug(settings, keys_a, path, body, debug):
    """With DEBUG on (make run), Django answered its HTML debug page instead of the surface's 404."""
    settings.DEBUG = debug
    response = client_for(keys_a.admin.plaintext).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == body


def test_key_list_is_the_documented_keys_object(keys_a):
    """The schema said a bare array; the answer is {"keys": [...]} (what docs/platform.md and clients read)."""
    response = client_for(keys_a.admin.plaintext).get("/api/platform/v1/keys")
    assert response.status_code == 200
    assert list(response.json()) == ["keys"]


def test_rotating_a_revoked_key_is_the_documented_409(keys_a):
    admin = client_for(keys_a.admin.plaintext)
    key_id = keys_a.read.key.pk
    assert admin.post(f"/api/platform/v1/keys/{key_id}/revoke", {"reason": "x"}, format="json").status_code == 200
    response = admin.post(f"/api/platform/v1/keys/{key_id}/rotate", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "CONFLICT"
