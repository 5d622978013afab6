"""Hostile input that used to answer 500 or cost a worker far more memory than the body (issue 12, items 1, 5,
6 and the Host header of item 12): each is now a 4xx in the surface's form that changes nothing, or a 2xx
whose answer is valid JSON and says exactly what was applied."""

from __future__ import annotations

import bz2
import io
import json
import tracemalloc
import zlib

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apikeys.renderers import SafeJSONRenderer
from catalog.models import Product
from merchandising.models import Collection
from pricing.models import PricingSettings
from tests import factories
from tests.reliability.conftest import table_counts, tenant_checksum
from tests.reliability.test_bad_input import assert_surface_error

pytestmark = pytest.mark.django_db

PID = 7_301_000_001


@pytest.fixture
def shop(tenant_a, keys_a):
    product = factories.product(tenant_a, external_id=PID, name="Lantern")
    factories.variant(product, price="20.00")
    return keys_a


def client(keys, *, connector: bool = False) -> APIClient:
    c = APIClient(raise_request_exception=False)
    key = keys.connector if connector else keys.admin
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}")
    return c


def unchanged(keys):
    return tenant_checksum(keys.admin.key.tenant), table_counts()


def send(keys, surface: str, method: str, path: str, body: bytes, content_type: str = "application/json"):
    c = client(keys, connector=surface == "merchandising")
    return c.generic(method.upper(), path, body, content_type=content_type)


# ---- 1. the request charset -----------------------------------------------------------------------------

BODIES = {
    "merchandising": ("post", "/api/v1/", {"action": "set_product_boost", "product_id": PID, "boost": 5}),
    "catalog": ("patch", f"/api/v3/products/{PID}", {"product": {"name": "Renamed"}}),
    "pricing": ("put", f"/api/external/v1/products/{PID}", {"minPrice": "1.00"}),
    "platform": ("put", "/api/platform/v1/products", {"products": [{"id": PID, "title": "Renamed"}]}),
}
NOT_UNICODE = ["bz2", "zlib", "rot13", "base64", "hex", "uu", "quopri", "punycode", "undefined", "latin-1", "nonsense"]


@pytest.mark.parametrize("charset", NOT_UNICODE)
@pytest.mark.parametrize("surface", BODIES)
def test_a_body_in_a_charset_that_is_not_unicode_is_a_415_in_the_surface_form(shop, surface, charset):
    method, path, body = BODIES[surface]
    raw = json.dumps(body).encode()
    if charset == "bz2":
        raw = bz2.compress(raw)
    elif charset == "zlib":
        raw = zlib.compress(raw)
    before = unchanged(shop)
    response = send(shop, surface, method, path, raw, f"application/json; charset={charset}")
    assert response.status_code == 415, response.content
    assert_surface_error(surface, response)
    assert unchanged(shop) == before


@pytest.mark.parametrize("charset", ["utf-8", "UTF8", "utf-16", "utf-16-le", "utf-32"])
def test_a_body_in_a_unicode_charset_is_read(shop, charset):
    raw = json.dumps({"minPrice": "12.50"}).encode(charset)
    response = send(
        shop, "pricing", "put", f"/api/external/v1/products/{PID}", raw, f"application/json; charset={charset}"
    )
    assert response.status_code == 200, response.content
    assert str(PricingSettings.objects.get(product__external_id=PID).min_price) == "12.50"
    echo = send(
        shop,
        "pricing",
        "post",
        "/api/external/v1/webhooks/test",
        '{"name": "Größe ✓"}'.encode(charset),
        f"application/json; charset={charset}",
    )
    assert echo.json()["data"]["received"] == {"name": "Größe ✓"}


def wsgi_call(path: str, query: str, content_type: str, body: bytes = b"") -> tuple[str, dict, bytes]:
    """One request through the deployed WSGI application (config.wsgi), as gunicorn makes it."""
    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST" if body else "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=dict(headers))

    content = b"".join(application(environ, start_response))
    return started["status"], started["headers"], content


@pytest.mark.parametrize(("path", "expected"), [("/api/v3/products", b'{"error"'), ("/admin/", b"Unsupported")])
@pytest.mark.parametrize("charset", ["rot13", "bz2", "undefined"])
def test_a_query_string_with_a_codec_charset_is_a_415_not_a_500(path, expected, charset):
    """Django decodes the query string with the named codec while building the request, before any
    middleware: the server answered its own 500 page."""
    status, _headers, content = wsgi_call(path, "page=1", f"text/plain; charset={charset}")
    assert status == "415 Unsupported Media Type"
    assert content.startswith(expected), content


@pytest.mark.parametrize("charset", ["rot13", "bz2", "base64", "undefined", "punycode"])
def test_an_admin_form_with_a_codec_charset_is_refused_not_a_500(charset, admin_user):
    c = Client(raise_request_exception=False)
    c.force_login(admin_user)
    response = c.generic(
        "POST",
        "/admin/tenants/tenant/add/",
        b"name=x&domain=y.myshopify.com",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 415


def test_an_admin_form_in_utf8_still_works(admin_user):
    c = Client()
    c.force_login(admin_user)
    response = c.get("/admin/", CONTENT_TYPE="text/plain; charset=utf-8")
    assert response.status_code == 200


def test_a_compression_bomb_named_as_charset_allocates_nothing_like_its_expansion(shop):
    """bz2 of 64 MiB of zeros is ~50 bytes; decompressed in the parser it cost 64 MiB (1 GB from 370 bytes)."""
    bomb = bz2.compress(b"0" * (64 * 1024 * 1024))
    tracemalloc.start()
    try:
        response = send(
            shop, "pricing", "put", f"/api/external/v1/products/{PID}", bomb, "application/json; charset=bz2"
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 415
    assert peak < 8 * 1024 * 1024, peak


# ---- 5. the renderer cannot fail after a commit ----------------------------------------------------------


def test_a_sync_whose_answer_echoes_a_lone_surrogate_answers_200_with_what_was_applied(shop):
    """The valid product was stored and the answer, echoing the other item's id, was a 500."""
    body = '{"products": [{"id": 5001, "title": "Good"}, {"id": "\\ud800", "title": "Bad"}]}'
    response = send(shop, "platform", "put", "/api/platform/v1/products", body.encode())
    assert response.status_code == 200, response.content
    answer = json.loads(response.content.decode("utf-8"))
    assert answer["results"] == [
        {"index": 0, "id": 5001, "status": "created"},
        {"index": 1, "id": "\ud800", "status": "rejected", "errors": {"id": ["Must be a positive integer."]}},
    ]
    assert Product.objects.filter(tenant=shop.admin.key.tenant, external_id=5001).exists()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/platform/v1/orders", '{"orders": [{"id": "\\udfff", "created_at": "x", "line_items": []}]}'),
        ("/api/platform/v1/collections", '{"collections": [{"id": "\\udfff", "title": "t"}]}'),
    ],
)
def test_other_syncs_echo_a_lone_surrogate_id_as_valid_json(shop, path, body):
    method = "post" if "orders" in path else "put"
    response = send(shop, "platform", method, path, body.encode())
    assert response.status_code == 200, response.content
    [result] = json.loads(response.content.decode("utf-8"))["results"]
    assert (result["id"], result["status"]) == ("\udfff", "rejected")


@pytest.mark.parametrize(
    "value",
    ["\ud800", "a\udfffb", "\x00", "\U0001f600", "\u2028", float("inf"), float("nan"), {"k\ud800": [float("-inf")]}],
    ids=repr,
)
def test_the_renderer_writes_any_value_as_strict_utf8_json(value):
    rendered = SafeJSONRenderer().render({"echo": value})
    parsed = json.loads(rendered.decode("utf-8"), parse_constant=lambda name: pytest.fail(f"{name} in output"))
    assert set(parsed) == {"echo"}


# ---- 6. hostile values that were 500s -------------------------------------------------------------------

HOSTILE = {
    "dyn_action_surrogate": ("merchandising", "post", "/api/v1/", '{"action": "\\ud800"}'),
    "dyn_choice_surrogate": (
        "merchandising",
        "post",
        "/api/v1/",
        '{"action": "update_collection", "collection_id": 1, "metrics_id": 1, "revert_sorting": "\\ud800"}',
    ),
    "dyn_boost_overflow": (
        "merchandising",
        "post",
        "/api/v1/",
        '{"action": "set_product_boost", "product_id": 1, "boost": 1e999}',
    ),
    "dyn_since_id_2_63": (
        "merchandising",
        "post",
        "/api/v1/",
        '{"action": "list_products", "since_id": 9223372036854775808}',
    ),
    "sor_category_nul": ("catalog", "patch", f"/api/v3/products/{PID}", '{"product": {"category_id": "a\\u0000"}}'),
    "sor_category_surrogate": (
        "catalog",
        "patch",
        f"/api/v3/products/{PID}",
        '{"product": {"category_id": "\\ud800"}}',
    ),
    "sor_unknown_field_surrogate": ("catalog", "patch", f"/api/v3/products/{PID}", '{"product": {"\\ud800": 1}}'),
    "shs_unknown_field_surrogate": ("pricing", "put", f"/api/external/v1/products/{PID}", '{"\\ud800": 1}'),
    "shs_money_overflow": ("pricing", "put", f"/api/external/v1/products/{PID}", '{"minPrice": 1e999}'),
    "shs_webhook_surrogate": ("pricing", "post", "/api/external/v1/webhooks/test", '{"\\ud800": "\\udc00"}'),
    "plt_unknown_field_surrogate": ("platform", "put", "/api/platform/v1/products", '{"products": [], "\\ud800": 1}'),
    "plt_key_permission_surrogate": (
        "platform",
        "post",
        "/api/platform/v1/keys",
        '{"name": "k", "permission": "\\ud800"}',
    ),
    "plt_observation_overflow": (
        "platform",
        "post",
        "/api/platform/v1/competitor-prices",
        '{"observations": [{"product_id": 1, "competitor": "c", "price": 1e999, "observed_at": "2026-01-01T00:00Z"}]}',
    ),
}


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_are_a_4xx_or_an_exact_answer_never_a_500(shop, case):
    surface, method, path, body = case
    before = unchanged(shop)
    response = send(shop, surface, method, path, body.encode())
    assert response.status_code < 500, response.content
    json.loads(response.content.decode("utf-8"))
    if response.status_code >= 400:
        assert_surface_error(surface, response)
        assert unchanged(shop) == before


def test_dynasort_offset_of_2_63_is_invalid_params(shop, tenant_a):
    Collection.objects.create(tenant=tenant_a, external_id=42, title="Picks")
    body = '{"action": "get_collection", "collection_id": 42, "offset": 9223372036854775808}'
    response = send(shop, "merchandising", "post", "/api/v1/", body.encode())
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_params"


@pytest.mark.parametrize("tags", ['"a\\u0000b"', '"x, \\ud800"', '["ok", "b\\u0000"]'])
def test_a_bad_tag_fails_only_its_own_item_of_a_large_sync(shop, tags):
    items = [{"id": 6000 + i, "title": f"P{i}", "tags": "fine"} for i in range(1000)]
    text = json.dumps({"products": items}).replace('"tags": "fine"}]', f'"tags": {tags}}}]')
    response = send(shop, "platform", "put", "/api/platform/v1/products", text.encode())
    assert response.status_code == 200, response.content[:500]
    answer = response.json()
    assert answer["counts"] == {"created": 999, "updated": 0, "duplicate": 0, "rejected": 1}
    rejected = [r for r in answer["results"] if r["status"] == "rejected"]
    assert [(r["index"], list(r["errors"])) for r in rejected] == [(999, ["tags"])]


# ---- 12 (part). a Host outside ALLOWED_HOSTS ------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("surface", "path"),
    [
        ("merchandising", "/api/v1/"),
        ("catalog", "/api/v3/products"),
        ("pricing", "/api/external/v1/products"),
        ("platform", "/api/platform/v1/keys"),
    ],
)
def test_a_host_outside_allowed_hosts_is_a_400_in_the_surface_form(settings, shop, surface, path, debug):
    settings.DEBUG = debug
    c = client(shop, connector=surface == "merchandising")
    response = c.get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert_surface_error(surface, response)
    assert "evil.example" not in response.content.decode()


def test_a_host_outside_allowed_hosts_elsewhere_is_still_django_400(settings):
    settings.DEBUG = False
    response = Client().get("/healthz", HTTP_HOST="evil.example")
    assert response.status_code == 400
