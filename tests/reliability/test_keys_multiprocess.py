"""Key security across web processes: two gunicorn servers on the same database. A key revoked or
rotated through one is refused by the other at once; plaintext keys appear in no table, log or error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.apps import apps
from django.db import connection, models

from apikeys import tokens
from tests.reliability.servers import WebServer, database_url_of_tests, http

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = "/api/external/v1/stats"


@pytest.fixture
def two_servers(transactional_db) -> Iterator[tuple[WebServer, WebServer]]:
    if connection.vendor != "postgresql":
        pytest.skip("web processes share the test database only on PostgreSQL")
    from django.conf import settings

    one = WebServer(database_url=database_url_of_tests(), redis_url=settings.REDIS_URL)
    try:
        two = WebServer(database_url=database_url_of_tests(), redis_url=settings.REDIS_URL)
    except Exception:
        one.stop()
        raise
    yield one, two
    one.stop()
    two.stop()


def test_revoked_key_is_refused_at_once_by_another_process(two_servers, keys_a):
    one, two = two_servers
    victim = keys_a.read
    assert http("GET", two.url + PROBE, victim.plaintext)[0] == 200  # the other process has seen the key
    status, _, body = http(
        "POST", f"{one.url}/api/platform/v1/keys/{victim.key.pk}/revoke", keys_a.admin.plaintext, {"reason": "leak"}
    )
    assert status == 200, body
    status, _, body = http("GET", two.url + PROBE, victim.plaintext)
    assert (status, body["code"]) == (401, "INVALID_API_KEY")
    assert victim.plaintext not in str(body)


def test_rotated_key_is_refused_at_once_by_another_process_and_the_new_one_works(two_servers, keys_a):
    one, two = two_servers
    old = keys_a.write
    assert http("GET", one.url + PROBE, old.plaintext)[0] == 200
    status, _, body = http("POST", f"{two.url}/api/platform/v1/keys/{old.key.pk}/rotate", keys_a.admin.plaintext, {})
    assert status in (200, 201), body
    new_plaintext = body["key"]
    assert tokens.is_well_formed(new_plaintext)
    assert http("GET", one.url + PROBE, old.plaintext)[0] == 401
    assert http("GET", one.url + PROBE, new_plaintext)[0] == 200
    assert http("GET", two.url + PROBE, new_plaintext)[0] == 200


def test_no_plaintext_key_in_any_table_log_or_error_body(two_servers, keys_a):
    one, two = two_servers
    status, _, created = http(
        "POST", f"{one.url}/api/platform/v1/keys", keys_a.admin.plaintext, {"name": "scan", "permission": "write"}
    )
    assert status == 201, created
    new_key = created["key"]
    # use it, fail with it (wrong permission, revoked), rotate it: every path that might log or store it
    assert http("GET", two.url + PROBE, new_key)[0] == 200
    assert http("GET", f"{two.url}/api/platform/v1/keys", new_key)[0] == 403
    _, _, rotated = http("POST", f"{two.url}/api/platform/v1/keys/{created['id']}/rotate", keys_a.admin.plaintext, {})
    bodies = [http("GET", one.url + PROBE, new_key), http("POST", one.url + "/api/v1/", new_key, {"action": "x"})]
    bodies.append(http("GET", one.url + PROBE, new_key[:-1] + ("A" if new_key[-1] != "A" else "B")))
    secrets = {
        new_key,
        rotated["key"],
        keys_a.admin.plaintext,
        new_key.split("_")[-1][8:],  # the random part without its display prefix
    }
    for status, headers, body in bodies:
        assert status == 401
        text = str(body) + str(headers)
        assert not any(s in text for s in secrets), text
    logs = one.output() + two.output()
    assert not any(s in logs for s in secrets)
    assert not any(s in dump for s in secrets for dump in _all_text_columns())


def _all_text_columns() -> Iterator[str]:
    """Every text value of every table of the project (keys may only be stored as hashes)."""
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if fields:
            for row in model.objects.values_list(*fields):
                yield " ".join(str(v) for v in row)
