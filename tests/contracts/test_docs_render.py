"""The API docs pages render in a real browser (headless Chromium), from this server alone: every operation of
the page's OpenAPI document shows up in Swagger UI and in ReDoc. The same check takes the screenshots of the
landing page and the admin overview that docs/quickstart.md shows (``make screenshots`` writes them to
docs/img/). Skipped where no Chromium is installed (Debian: ``apt-get install chromium``)."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, reverse

from demo.management.commands.seed_demo import DEMO_STAFF_PASSWORD, DEMO_STAFF_USERNAME
from tests.contracts.browser import Browser, admin_session, chromium, dump_dom, png_colours

pytestmark = pytest.mark.skipif(chromium() is None, reason="needs Chromium (Debian package chromium)")

SURFACES = ["merchandising", "catalog", "pricing", "platform"]
# (page, its OpenAPI document)
PAGES = [
    *[(f"/api/{ui}/{s}/", f"/api/schema/{s}/") for ui in ("docs", "redoc") for s in SURFACES],
    ("/api/docs/", "/api/schema/"),
]
MAX_PNG_BYTES = 150_000


def _operation_ids(base: str, schema_path: str) -> set[str]:
    with urllib.request.urlopen(f"{base}{schema_path}?format=json") as response:  # noqa: S310  (live server)
        schema = json.load(response)
    return {op["operationId"] for item in schema["paths"].values() for op in item.values()}


@pytest.mark.parametrize(("page", "schema_path"), PAGES)
def test_docs_page_renders_every_operation(live_demo_server, page, schema_path):
    expected = _operation_ids(live_demo_server.url, schema_path)
    dom = dump_dom(live_demo_server.url + page)
    if "/redoc/" in page:
        assert set(re.findall(r'data-section-id="operation/([^"]+)"', dom)) == expected, page
    else:  # Swagger UI: one block per operation, with the id operations-<tag>-<operationId>
        blocks = re.findall(r'class="opblock opblock-\w+[^"]*" id="operations-([^"]+)"', dom)
        assert len(blocks) == len(expected), page
        assert all(any(b.endswith(f"-{op}") for b in blocks) for op in expected), page


def _admin_overview_path() -> str:
    try:  # the per-shop overview of the demo shop (the only shop, id 1, of a fresh demo database)
        return reverse("admin:tenants_tenant_overview", args=[1])
    except NoReverseMatch:
        return reverse("admin:index")


@pytest.mark.parametrize(("name", "path", "login"), [("landing", "/", False), ("admin-overview", None, True)])
def test_screenshots_for_the_quickstart_are_not_blank(live_demo_server, tmp_path, name, path, login):
    base = live_demo_server.url
    out = Path(os.environ.get("DOCS_SCREENSHOTS") or tmp_path)
    browser = Browser(width=1200, height=760)
    try:
        if login:
            browser.set_cookie(base, "sessionid", admin_session(base, DEMO_STAFF_USERNAME, DEMO_STAFF_PASSWORD))
        browser.open(base + (path or _admin_overview_path()))
        assert "/admin/login/" not in browser.evaluate("location.pathname")
        png = browser.screenshot()
    finally:
        browser.close()
    assert png_colours(png) > 16, "blank page"
    assert len(png) < MAX_PNG_BYTES
    (out / f"{name}.png").write_bytes(png)
