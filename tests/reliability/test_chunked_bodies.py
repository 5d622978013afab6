"""``Transfer-Encoding: chunked`` without Content-Length (issue 12, item 7): a ShopiSync PUT answered 200 and
changed nothing, because Django read the body as empty. Against a live gunicorn (the Django test client does
not send chunked bodies): the body is read and applied, a chunked body over the limit is a 413 in the surface's
form, and a server that cannot de-chunk gets a 411, never a success on an empty body."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest
from django.db import connection

from pricing.models import PricingSettings
from tests import factories
from tests.reliability.servers import WebServer, database_url_of_tests

pytestmark = pytest.mark.django_db(transaction=True)

PID = 7_301_000_001


@pytest.fixture
def server(transactional_db) -> Iterator[WebServer]:
    if connection.vendor != "postgresql":
        pytest.skip("a web process shares the test database only on PostgreSQL")
    web = WebServer(database_url=database_url_of_tests(), redis_url=None, MAX_REQUEST_BODY_BYTES="65536")
    yield web
    web.stop()


def chunked(server: WebServer, method: str, path: str, key: str, chunks: list[bytes]) -> tuple[int, dict]:
    connection_ = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        connection_.request(method, path, body=iter(chunks), headers=headers, encode_chunked=True)
        response = connection_.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection_.close()


@pytest.fixture
def product(tenant_a):
    product = factories.product(tenant_a, external_id=PID, name="Lantern")
    factories.variant(product, price="20.00")
    return product


def test_a_chunked_shopisync_put_is_applied(server, product, keys_a):
    status, body = chunked(
        server,
        "PUT",
        f"/api/external/v1/products/{PID}",
        keys_a.write.plaintext,
        [b'{"minPrice": "12.', b'50", "maxPrice"', b': "30.00"}'],
    )
    assert status == 200, body
    settings = PricingSettings.objects.get(product=product)
    assert (str(settings.min_price), str(settings.max_price)) == ("12.50", "30.00")


def test_a_chunked_body_over_the_limit_is_a_413_in_the_surface_form(server, product, keys_a):
    chunk = b" " * 16384
    status, body = chunked(
        server,
        "PUT",
        f"/api/external/v1/products/{PID}",
        keys_a.write.plaintext,
        [b'{"minPrice": "1.00"', *[chunk] * 8, b"}"],
    )
    assert status == 413
    assert body == {"error": "Request body too large", "code": "PAYLOAD_TOO_LARGE"}
    assert not PricingSettings.objects.filter(product=product, min_price=1).exists()


def test_a_chunked_platform_sync_is_applied(server, keys_a):
    payload = json.dumps({"products": [{"id": 5001, "title": "Chunked"}]}).encode()
    status, body = chunked(
        server, "PUT", "/api/platform/v1/products", keys_a.admin.plaintext, [payload[:10], payload[10:]]
    )
    assert status == 200, body
    assert body["results"] == [{"index": 0, "id": 5001, "status": "created"}]


def test_without_a_server_that_de_chunks_the_answer_is_411_not_an_empty_success(keys_a, product):
    """The Django test client stands for a WSGI server that passes the header but no de-chunked input."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {keys_a.write.plaintext}")
    response = client.generic(
        "PUT",
        f"/api/external/v1/products/{PID}",
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert response.json()["code"] == "LENGTH_REQUIRED"
