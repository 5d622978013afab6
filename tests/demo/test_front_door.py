"""The front door: the landing page at /, the URLs `make run` prints, the embedded demo's admin login."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

pytestmark = pytest.mark.django_db

SURFACES = ["merchandising", "catalog", "pricing", "platform"]


def test_the_landing_page_links_every_surface_docs_and_schema_the_admin_and_the_probes(client):
    response = client.get("/")
    assert response.status_code == 200
    links = set(re.findall(r'href="([^"]+)"', response.content.decode()))
    for surface in SURFACES:
        assert {f"/api/docs/{surface}/", f"/api/redoc/{surface}/", f"/api/schema/{surface}/"} <= links
    assert {"/admin/", "/healthz", "/readyz", "/api/schema/"} <= links
    for link in links:
        assert client.get(link).status_code == 200 or link == "/admin/", link


@pytest.mark.parametrize("page", [f"/api/{kind}/{s}/" for kind in ("docs", "redoc") for s in SURFACES])
def test_docs_pages_load_their_ui_from_this_server_not_a_cdn(client, page):
    html = client.get(page).content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets)
    assert all(a.startswith("/static/drf_spectacular_sidecar/") for a in assets), assets
    for asset in assets:
        assert b"".join(client.get(asset).streaming_content), asset


def test_seed_demo_creates_the_staff_login_it_prints_and_the_urls(settings):
    out = io.StringIO()
    call_command("seed_demo", "--keys-only", "--base-url", "http://127.0.0.1:8001", stdout=out)
    text = out.getvalue()
    user, password = re.search(r"Admin login \(demo only\): user (\S+), password (\S+)", text).groups()
    browser = Client()
    assert browser.login(username=user, password=password)
    assert browser.get("/admin/").status_code == 200
    assert "http://127.0.0.1:8001/ " in text
    assert all(f"http://127.0.0.1:8001/api/docs/{s}/" in text for s in SURFACES)
    assert "http://127.0.0.1:8001/admin/" in text


def test_no_staff_user_in_production_mode(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo", "--keys-only", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", "--keys-only", "--allow-production", stdout=out)
    assert not get_user_model().objects.exists()
    assert "Admin login" not in out.getvalue()
