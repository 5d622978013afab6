"""The admin's per-shop overview: keys and their hourly usage, last sorts and reprices, links to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys.models import ApiKeyUsageHour
from apikeys.services import api_key_create
from merchandising.models import SortRun
from pricing.models import RepriceRun, RunState

pytestmark = pytest.mark.django_db


def _usage(issued, *, hours_ago: int, requests: int, e4: int = 0, e5: int = 0, throttled: int = 0) -> None:
    key = issued.key
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)
    ApiKeyUsageHour.objects.create(
        tenant_id=key.tenant_id,
        key=key,
        lineage_id=key.lineage_id,
        hour=hour,
        requests=requests,
        errors_4xx=e4,
        errors_5xx=e5,
        throttled=throttled,
    )


def _url(tenant, **query) -> str:
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/admin/tenants/tenant/{tenant.pk}/overview/" + (f"?{suffix}" if suffix else "")


def test_overview_shows_usage_totals_chart_and_keys(admin_client, tenant_a, keys_a):
    _usage(keys_a.read, hours_ago=1, requests=120, e4=7, e5=2, throttled=3)
    _usage(keys_a.read, hours_ago=30, requests=80, e4=1)
    _usage(keys_a.connector, hours_ago=5, requests=41)
    response = admin_client.get(_url(tenant_a))
    assert response.status_code == 200
    overview = response.context["overview"]
    assert overview.totals == {"requests": 241, "errors_4xx": 8, "errors_5xx": 2, "throttled": 3}
    assert len(overview.hours) == 7 * 24 and sum(overview.counts["requests"]) == 241
    by_key = {row.key.pk: row.totals["requests"] for row in overview.keys}
    assert by_key[keys_a.read.key.pk] == 200 and by_key[keys_a.connector.key.pk] == 41
    page = response.content.decode()
    assert page.count("<polyline") >= 4  # a line per counter, plus the keys' sparklines
    assert 'aria-label="API requests per hour"' in page
    assert "<script" not in page.split('id="content-main"', 1)[1]  # server-rendered, no JavaScript
    for issued in (keys_a.read, keys_a.write, keys_a.admin, keys_a.connector):
        assert f"/admin/apikeys/apikey/{issued.key.pk}/change/" in page
        assert issued.plaintext not in page


def test_overview_window_of_one_day_leaves_older_hours_out(admin_client, tenant_a, keys_a):
    _usage(keys_a.read, hours_ago=2, requests=5)
    _usage(keys_a.read, hours_ago=40, requests=900)
    overview = admin_client.get(_url(tenant_a, days=1)).context["overview"]
    assert overview.totals["requests"] == 5 and len(overview.hours) == 24


def test_overview_shows_last_sorts_and_reprices_with_their_outcome(admin_client, tenant_a):
    SortRun.objects.create(
        tenant=tenant_a,
        collection_external_id=77,
        kind="recipe",
        method="Best sellers",
        status="error",
        message="recipe has no weights",
    )
    RepriceRun.objects.create(
        tenant=tenant_a, trigger="schedule", state=RunState.DONE, products_checked=12, products_changed=3
    )
    page = admin_client.get(_url(tenant_a)).content.decode()
    assert "Best sellers" in page and "recipe has no weights" in page and 'class="status-error"' in page
    assert ">schedule</td>" in page and 'class="status-done"' in page


def test_overview_never_shows_another_shops_data(admin_client, tenant_a, tenant_b, keys_a, keys_b):
    _usage(keys_a.read, hours_ago=1, requests=11)
    _usage(keys_b.read, hours_ago=1, requests=99999, e5=4242)
    b_only = api_key_create(tenant=tenant_b, name="b-only secret key", permission="read")
    SortRun.objects.create(tenant=tenant_b, collection_external_id=5, kind="recipe", method="B recipe", status="done")
    RepriceRun.objects.create(tenant=tenant_b, trigger="b-trigger", state=RunState.ERROR, error="b failure")
    response = admin_client.get(_url(tenant_a))
    page = response.content.decode()
    assert response.context["overview"].totals["requests"] == 11
    for other in ("99999", "4242", "b-only secret key", "B recipe", "b-trigger", "b failure"):
        assert other not in page
    for issued in (keys_b.read, keys_b.admin, b_only):
        assert f"/admin/apikeys/apikey/{issued.key.pk}/change/" not in page
    assert {row.key.tenant_id for row in response.context["overview"].keys} == {tenant_a.pk}


def test_overview_of_an_unknown_shop_is_not_found(admin_client, tenant_a):
    assert admin_client.get("/admin/tenants/tenant/999999/overview/").status_code == 404


def test_overview_needs_staff(client, tenant_a):
    response = client.get(_url(tenant_a))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def _queries(admin_client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert admin_client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_overview_query_count_does_not_grow_with_keys(admin_client, tenant_a, make_key, django_assert_max_num_queries):
    def add_keys(n: int) -> None:
        for _ in range(n):
            issued = make_key(tenant_a, "read")
            _usage(issued, hours_ago=1, requests=3, e4=1)
            _usage(issued, hours_ago=9, requests=2)
        SortRun.objects.create(tenant=tenant_a, collection_external_id=n, kind="recipe", method="r", status="done")

    add_keys(2)
    few = _queries(admin_client, _url(tenant_a))
    add_keys(20)
    with django_assert_max_num_queries(few):
        admin_client.get(_url(tenant_a))


def test_tenant_page_and_admin_index_link_the_overview_and_the_connector_prompt(admin_client, tenant_a):
    overview = f"/admin/tenants/tenant/{tenant_a.pk}/overview/"
    prompt = f"/admin/merchandising/collection/connector-prompt/?tenant={tenant_a.pk}"
    change = admin_client.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()
    index = admin_client.get("/admin/").content.decode()
    page = admin_client.get(overview).content.decode()
    for html in (change, index):
        assert f'href="{overview}"' in html and f'href="{prompt}"' in html
    assert f'href="{prompt}"' in page
    prompt_page = admin_client.get(prompt)
    assert prompt_page.status_code == 200 and prompt_page.context["chosen"] == tenant_a


def test_the_overview_entry_point_leads_to_the_only_shop(admin_client, tenant_a):
    response = admin_client.get("/admin/tenants/tenant/overview/")
    assert response.status_code == 302 and response["Location"] == f"/admin/tenants/tenant/{tenant_a.pk}/overview/"


def test_overview_lists_live_keys_before_revoked_ones(admin_client, tenant_a, make_key):
    from apikeys.services import api_key_revoke

    live = make_key(tenant_a, "write")
    revoked = make_key(tenant_a, "read")  # newer, but revoked
    api_key_revoke(key=revoked.key, actor="test", reason="done")
    keys = [row.key.pk for row in admin_client.get(_url(tenant_a)).context["overview"].keys]
    assert keys == [live.key.pk, revoked.key.pk]
