"""Admin login throttling with django-axes (issue 12 item 9): failures are counted per client address
(the API's, TRUSTED_PROXY_COUNT) and per username; a success resets them; the lockout ends after the cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "right-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests only: PBKDF2 is slow


@pytest.fixture
def staff():
    return get_user_model().objects.create_superuser("staff", "staff@example.com", PASSWORD)


def _login(client: Client, password: str, *, username: str = "staff", ip: str = "198.51.100.7", **meta):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **meta)


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_the_login_is_locked_after_the_failure_limit(settings, staff, client):
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [_login(client, "wrong").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the form again twice; the third failure locks
    locked = _login(client, PASSWORD)  # even the right password, while locked out
    assert locked.status_code == 429
    assert b"too many login attempts" in locked.content
    assert "_auth_user_id" not in client.session


def test_failures_are_counted_per_username_across_addresses(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        _login(Client(), "wrong", ip=f"198.51.100.{10 + n}")
    assert _login(Client(), PASSWORD, ip="203.0.113.9").status_code == 429


def test_failures_are_counted_per_address_across_usernames(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    for name in ("alice", "bob", "carol"):
        _login(Client(), "wrong", username=name)
    assert _login(Client(), PASSWORD).status_code == 429  # staff from the same address
    get_user_model().objects.create_superuser("other", "o@example.com", PASSWORD)
    assert _logged_in(_login(Client(), PASSWORD, username="other", ip="203.0.113.9"))


def test_a_successful_login_resets_the_failures(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        _login(Client(), "wrong")
    assert _logged_in(_login(Client(), PASSWORD))
    for _ in range(2):  # two more failures are not the third
        assert _login(Client(), "wrong").status_code == 200
    assert _logged_in(_login(Client(), PASSWORD))


def test_the_lockout_ends_after_the_cool_off(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _login(Client(), "wrong")
    assert _login(Client(), PASSWORD).status_code == 429
    # the cool-off counts from the last failure: move the recorded attempts back past it
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert _logged_in(_login(Client(), PASSWORD))


def test_the_client_address_is_the_apis_behind_trusted_proxies(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"  # every request comes through the same proxy
    for n in range(3):  # one attacker, spoofing an extra X-Forwarded-For entry each time
        _login(Client(), "wrong", username=f"u{n}", ip=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.66")
    locked = _login(Client(), PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert locked.status_code == 429
    # another client behind the same proxy is not locked out
    assert _logged_in(_login(Client(), PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5"))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def test_the_defaults_are_documented_values(settings):
    import config.settings as configured

    assert configured.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == configured.AXES_COOLOFF_TIME
    assert configured.AXES_LOCKOUT_PARAMETERS == ["ip_address", "username"]
    assert configured.AXES_RESET_ON_SUCCESS is True


def test_a_login_without_a_request_is_not_refused(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    assert Client().login(username="staff", password=PASSWORD)  # Django's test login passes no request
    assert not Client().login(username="staff", password="wrong")
    for _ in range(3):  # over HTTP the lockout still holds
        _login(Client(), "wrong")
    assert _login(Client(), PASSWORD).status_code == 429
