"""Key lifecycle: issue, show once, rotate, revoke, audit, constraints; the key management API."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apikeys import tokens
from apikeys.exceptions import Conflict
from apikeys.models import ApiKey, ApiKeyEvent
from apikeys.services import api_key_create, api_key_revoke, api_key_rotate
from apikeys.tokens import KeyKind
from tests.conftest import assert_not_found, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", list(KeyKind))
def test_generated_keys_have_the_documented_format_and_a_valid_checksum(kind):
    key = tokens.generate(kind)
    assert key.startswith("dyn_sk_" if kind == KeyKind.CONNECTOR else "sk_live_")
    assert tokens.is_well_formed(key)
    mistyped = key[:-5] + ("A" if key[-5] != "A" else "B") + key[-4:]
    assert not tokens.is_well_formed(mistyped)


def test_connector_key_is_a_long_hex_string():
    key = tokens.generate(KeyKind.CONNECTOR)
    assert len(key) == len("dyn_sk_") + 72
    int(key[len("dyn_sk_") :], 16)


def test_only_the_hash_is_stored(tenant_a):
    issued = api_key_create(tenant=tenant_a, name="ci", permission="write")
    row = ApiKey.objects.get(pk=issued.key.pk)
    assert row.key_hash == tokens.digest(issued.plaintext)
    with connection.cursor() as cursor:
        for table in ("apikeys_apikey", "apikeys_apikeyevent"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            dump = repr(cursor.fetchall())
            assert issued.plaintext not in dump
            assert issued.plaintext[12:-4] not in dump


def test_no_plaintext_key_is_logged(tenant_a, caplog):
    caplog.set_level(logging.DEBUG)
    issued = api_key_create(tenant=tenant_a, name="ci", permission="admin")
    client = client_for(issued.plaintext)
    client.get("/api/platform/v1/keys")
    client.post("/api/platform/v1/keys", {"name": "x" * 500}, format="json")
    client_for(issued.plaintext + "x").get("/api/platform/v1/keys")
    assert issued.plaintext not in caplog.text


def test_one_active_connector_key_per_tenant_is_a_database_constraint(tenant_a):
    first = api_key_create(tenant=tenant_a, name="c1", kind=KeyKind.CONNECTOR)
    with pytest.raises(Conflict):  # a read-only one counts too: one active connector key, whatever it may do
        api_key_create(tenant=tenant_a, name="c2", kind=KeyKind.CONNECTOR, permission="write")
    duplicate = ApiKey(
        tenant=tenant_a,
        name="raw",
        kind=KeyKind.CONNECTOR,
        permission="read",
        key_hash="0" * 64,
        prefix="p",
        last_four="1234",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    api_key_revoke(key=first.key, reason="done")
    assert api_key_create(tenant=tenant_a, name="c3", kind=KeyKind.CONNECTOR).key.permission == "read"


def test_rotation_revokes_the_old_key_at_once_and_keeps_settings_and_lineage(tenant_a):
    old = api_key_create(tenant=tenant_a, name="ci", permission="write", allowed_ips=["10.0.0.0/8"], rate_limit=5)
    new = api_key_rotate(key=old.key, actor="test")
    old.key.refresh_from_db()
    assert not old.key.is_active()
    assert (new.key.permission, new.key.allowed_ips, new.key.rate_limit) == ("write", ["10.0.0.0/8"], 5)
    assert new.key.lineage_id == old.key.lineage_id
    assert new.plaintext != old.plaintext
    assert list(ApiKeyEvent.objects.filter(key=old.key).values_list("type", flat=True)) == [
        "rotated",
        "revoked",
        "created",
    ]


def test_rotation_with_grace_period_keeps_the_old_key_until_then(tenant_a):
    old = api_key_create(tenant=tenant_a, name="ci", permission="admin")
    api_key_rotate(key=old.key, grace_seconds=3600)
    old.key.refresh_from_db()
    assert old.key.is_active()
    assert old.key.status == "expiring"
    assert client_for(old.plaintext).get("/api/platform/v1/keys").status_code == 200
    assert not old.key.is_active(now=timezone.now() + timedelta(hours=2))


def test_rotating_a_connector_key_keeps_one_active(tenant_a):
    old = api_key_create(tenant=tenant_a, name="c", kind=KeyKind.CONNECTOR)
    new = api_key_rotate(key=old.key)
    assert new.key.kind == KeyKind.CONNECTOR
    assert client_for(old.plaintext).get("/api/platform/v1/keys").status_code == 401


def test_audit_log_is_append_only(tenant_a):
    issued = api_key_create(tenant=tenant_a, name="ci")
    event = ApiKeyEvent.objects.get(key=issued.key)
    event.actor = "tampered"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


# --- the key management API --------------------------------------------------------------


def test_create_key_shows_plaintext_once(platform):
    response = platform.post(
        "/api/platform/v1/keys",
        {
            "name": "sync job",
            "permission": "write",
            "allowed_ips": ["10.0.0.0/8", "2001:db8::/32"],
            "rate_limit": 100,
            "rate_limit_window": 60,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert tokens.is_well_formed(body["key"])
    assert body["permission"] == "write" and body["status"] == "active"
    listed = platform.get("/api/platform/v1/keys").json()["keys"]
    assert all("key" not in item for item in listed)
    assert body["id"] in [item["id"] for item in listed]
    created = client_for(body["key"]).get("/api/platform/v1/keys", REMOTE_ADDR="10.9.9.9")
    assert created.status_code == 403  # a write key cannot manage keys
    assert created.json()["code"] == "INSUFFICIENT_PERMISSIONS"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x", "permission": "root"},
        {"name": "x", "allowed_ips": ["10.0.0.0/33"]},
        {"name": "x", "allowed_ips": "10.0.0.1"},
        {"name": "x", "rate_limit": 0},
        {"name": "x", "rate_limit": "many"},
        {"name": "x", "expires_at": "yesterday"},
        {"name": "x", "expires_at": "2001-01-01T00:00:00Z"},
        {"name": "x" * 101},
    ],
)
def test_create_key_bad_input_is_400_and_creates_nothing(platform, payload, tenant_a):
    before = ApiKey.objects.count()
    response = platform.post("/api/platform/v1/keys", payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert ApiKey.objects.count() == before


def test_second_connector_key_is_409(platform, keys_a):
    response = platform.post("/api/platform/v1/keys", {"name": "c", "kind": "connector"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "CONFLICT"


def test_rotate_and_revoke_through_the_api(platform, keys_a):
    target = keys_a.read.key
    rotated = platform.post(f"/api/platform/v1/keys/{target.pk}/rotate", {}, format="json")
    assert rotated.status_code == 201
    assert client_for(keys_a.read.plaintext).get("/api/platform/v1/keys").status_code == 401
    new_id = rotated.json()["id"]
    revoked = platform.post(f"/api/platform/v1/keys/{new_id}/revoke", {"reason": "leaked"}, format="json")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoke_reason"] == "leaked"
    assert client_for(rotated.json()["key"]).get("/api/platform/v1/keys").status_code == 401
    again = platform.post(f"/api/platform/v1/keys/{new_id}/rotate", {}, format="json")
    assert again.status_code == 409


@pytest.mark.parametrize("grace", [-1, 86401, "soon"])
def test_rotate_bad_grace_is_400(platform, keys_a, grace):
    response = platform.post(
        f"/api/platform/v1/keys/{keys_a.read.key.pk}/rotate", {"grace_seconds": grace}, format="json"
    )
    assert response.status_code == 400
    keys_a.read.key.refresh_from_db()
    assert keys_a.read.key.revoked_at is None


@pytest.mark.parametrize("suffix", ["rotate", "revoke", "usage"])
def test_other_tenants_keys_are_not_found(suffix, keys_a, keys_b):
    client_b = client_for(keys_b.admin.plaintext)
    target = keys_a.read.key.pk
    method = "get" if suffix == "usage" else "post"
    response = getattr(client_b, method)(f"/api/platform/v1/keys/{target}/{suffix}", {}, format="json")
    assert_not_found("platform", response)
    keys_a.read.key.refresh_from_db()
    assert keys_a.read.key.revoked_at is None


def test_key_list_never_shows_another_tenants_keys(keys_a, keys_b):
    listed = client_for(keys_b.admin.plaintext).get("/api/platform/v1/keys").json()["keys"]
    ids = {item["id"] for item in listed}
    assert ids == set(ApiKey.objects.filter(tenant=keys_b.admin.key.tenant).values_list("pk", flat=True))
    assert keys_a.admin.key.pk not in ids


@pytest.mark.parametrize("permission", ["read", "write"])
def test_key_management_needs_admin(permission, make_key, tenant_a):
    key = make_key(tenant_a, permission)
    response = client_for(key.plaintext).get("/api/platform/v1/keys")
    assert response.status_code == 403


# --- commands --------------------------------------------------------------------------


def test_create_tenant_and_create_api_key_commands(capsys):
    call_command("create_tenant", "--domain", "Acme.myshopify.com", "--name", "Acme", "--plan", "growth")
    call_command(
        "create_api_key",
        "--tenant",
        "acme.myshopify.com",
        "--name",
        "ci",
        "--permission",
        "write",
        "--ip",
        "10.0.0.0/8",
        "--rate-limit",
        "50/minute",
        "--expires",
        "2999-01-01",
    )
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert tokens.is_well_formed(last_line)
    key = ApiKey.objects.get(key_hash=tokens.digest(last_line))
    assert (key.permission, key.rate_limit, key.rate_limit_window, key.allowed_ips) == ("write", 50, 60, ["10.0.0.0/8"])
    assert key.expires_at.year == 2999


def test_create_connector_key_command(capsys, tenant_a):
    call_command("create_api_key", "--tenant", tenant_a.domain, "--name", "c", "--connector")
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("dyn_sk_")


@pytest.mark.parametrize("args", [["--rate-limit", "lots"], ["--expires", "tomorrow"], ["--ip", "300.1.1.1"]])
def test_create_api_key_command_rejects_bad_input(args, tenant_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_key", "--tenant", tenant_a.domain, "--name", "ci", *args)
    assert not ApiKey.objects.filter(tenant=tenant_a).exists()


def test_seed_demo_is_idempotent_and_prints_working_keys(capsys):
    call_command("seed_demo", "--keys-only")
    first = capsys.readouterr().out
    call_command("seed_demo", "--keys-only")
    assert capsys.readouterr().out == first
    admin = next(line.split()[-1] for line in first.splitlines() if "demo admin" in line)
    assert client_for(admin).get("/api/platform/v1/keys").status_code == 200
    assert ApiKey.objects.filter(tenant__domain="demo.myshopify.com").count() == 5
