"""compose.yaml: one image built once, and healthchecks that pass with its defaults (config/healthcheck.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from config import healthcheck

yaml = pytest.importorskip("yaml")  # PyYAML comes with the dev requirements (schemathesis)

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "compose.yaml").read_text())
APP_SERVICES = ["migrate", "web", "worker", "beat"]


def _default(value: str) -> str:
    """``${NAME:-default}`` as compose resolves it with NAME unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_one_image_is_built_once_and_reused():
    services = COMPOSE["services"]
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    assert [name for name in APP_SERVICES if "build" in services[name]] == ["migrate"]


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_long_running_services_have_a_healthcheck_of_their_own(service):
    assert COMPOSE["services"][service]["healthcheck"]["test"] == ["CMD", "python", "-m", "config.healthcheck", service]


@pytest.mark.django_db
def test_the_web_probe_is_accepted_with_the_default_allowed_hosts(client, settings):
    allowed = _default(COMPOSE["services"]["web"]["environment"]["ALLOWED_HOSTS"])
    settings.ALLOWED_HOSTS = allowed.split(",")
    assert client.get("/readyz", HTTP_HOST=healthcheck.probe_host(allowed)).status_code == 200


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        ("localhost", "localhost"),
        ("shop.example.com,localhost", "shop.example.com"),
        (".example.com", "www.example.com"),
    ],
)
def test_the_probe_host_is_one_allowed_hosts_accepts(allowed, host):
    assert healthcheck.probe_host(allowed) == host


def test_beat_is_healthy_while_its_schedule_file_is_fresh(tmp_path, monkeypatch):
    monkeypatch.setattr(healthcheck, "BEAT_SCHEDULE", str(tmp_path / "celerybeat-schedule"))
    assert not healthcheck.beat()  # not started yet
    (tmp_path / "celerybeat-schedule.dat").write_bytes(b"")
    mtime = os.path.getmtime(tmp_path / "celerybeat-schedule.dat")
    assert healthcheck.beat(now=mtime + 60)
    assert not healthcheck.beat(now=mtime + healthcheck.BEAT_STALE_SECONDS + 1)
