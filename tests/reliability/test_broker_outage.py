"""The broker (a Redis of the test's own) down, then hung (SIGSTOP), under every write that queues a task:
each answers 2xx with its data committed and its task kept in the outbox; once Redis is back, the sweeper
publishes the outbox and re-queues work stuck in a waiting state, and a real worker completes all of it.

Before the outbox, these writes answered 500 after their commit, a product asked for recommendations
stayed ``recommending_products`` for good and a collection stayed ``queued``; a hung Redis held the web
worker until gunicorn killed it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import Product, ProductEmbedding, ProductState
from config.celery import app as celery_app
from core.models import TaskOutbox
from merchandising.models import Collection, Recipe, SortState
from tests import factories
from tests.celery_worker import LiveWorker, _start, wait_for
from tests.merchandising.conftest import make_collection
from tests.reliability.servers import ROOT, RedisServer, WebServer, database_url_of_tests, http, redis_available

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(transactional_db) -> Iterator[RedisServer]:
    if connection.vendor != "postgresql" or not redis_available():
        pytest.skip("needs PostgreSQL and redis-server")
    server = RedisServer()
    yield server
    if server.process is not None and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


@pytest.fixture
def queue() -> str:
    return f"outage-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def web(broker, queue) -> Iterator[WebServer]:
    server = WebServer(
        database_url=database_url_of_tests(),
        redis_url=broker.url,
        CELERY_TASK_ALWAYS_EAGER="0",
        CELERY_QUEUE=queue,
        TASK_PUBLISH_PAUSE_SECONDS="0",  # every request tries the broker (no pause after a failure)
    )
    yield server
    server.stop()


def sweep(broker: RedisServer, queue: str) -> str:
    """Run the sweeper once, in a process of its own on the test broker, with no minimum age."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": broker.url,
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "TASK_OUTBOX_RETRY_SECONDS": "0",
        "TASK_STUCK_SECONDS": "0",
    }
    code = "from config.tasks import tasks_sweep; print(tasks_sweep())"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_publish_is_bounded_by_short_broker_timeouts():
    conf = celery_app.conf
    assert conf.broker_transport_options["socket_timeout"] <= 1
    assert conf.broker_transport_options["socket_connect_timeout"] <= 1
    assert conf.broker_connection_timeout <= 1
    assert conf.task_publish_retry_policy["max_retries"] <= 1


def test_writes_during_a_broker_outage_answer_2xx_and_their_work_is_done_afterwards(
    broker, web, queue, tenant_a, keys_a, settings
):
    key = keys_a.admin.plaintext
    products = [factories.product(tenant_a, name=f"Lamp {i}", description="a lamp") for i in range(4)]
    for i, p in enumerate(products):
        factories.variant(p, price="10.00", inventory_quantity=i + 1)
    recipe = Recipe.objects.for_tenant(tenant_a).get(name="Best sellers (30 days)")
    collection = make_collection(tenant_a, products, external_id=68_000_001, enabled=True, recipe=recipe)
    lost = products[3]  # a product whose task the broker lost (no outbox row): only its state shows it
    Product.objects.filter(pk=lost.pk).update(
        state=ProductState.RECOMMENDING, state_changed_at=timezone.now() - timedelta(hours=1)
    )

    broker.stop()  # down: connections refused
    writes = [
        ("POST", f"/api/v3/products/{products[0].pk}/recommend", None, 200),
        ("POST", "/api/v3/products", {"product": {"id": 68_100_001, "name": "Desk lamp"}}, 201),
        ("POST", "/api/v1/", {"action": "sort_collection", "collection_id": collection.external_id}, 200),
        (
            "PUT",
            "/api/platform/v1/products",
            {"products": [{"id": 68_200_001, "title": "Floor lamp", "variants": [{"id": 68_200_002, "price": "9"}]}]},
            200,
        ),
        ("PUT", f"/api/external/v1/products/{products[1].external_id}", {"minPrice": "5.00", "autoReprice": True}, 200),
        (
            "POST",
            "/api/platform/v1/competitor-prices",
            {
                "observations": [
                    {
                        "product_id": products[1].external_id,
                        "competitor": "Rival",
                        "price": "8.00",
                        "in_stock": True,
                        "observed_at": timezone.now().isoformat(),
                    }
                ]
            },
            200,
        ),
    ]
    for method, path, body, expected in writes:
        client_key = keys_a.connector.plaintext if path == "/api/v1/" else key
        status, _, answer = http(method, web.url + path, client_key, body, timeout=60)
        assert status == expected, (path, status, answer)
    assert Product.objects.get(pk=products[0].pk).state == ProductState.RECOMMENDING
    assert Collection.objects.get(pk=collection.pk).sort_state == SortState.QUEUED
    kept = set(TaskOutbox.objects.values_list("task", flat=True))
    assert {
        "catalog.tasks.product_recommend",
        "catalog.tasks.category_suggestions_chunk",
        "catalog.tasks.products_embed",
        "merchandising.tasks.collection_sort",
        "pricing.tasks.reprice_tenant",
    } <= kept

    broker.start()  # hung: the port accepts connections, the server never answers
    os.kill(broker.process.pid, signal.SIGSTOP)
    status, _, answer = http("POST", f"{web.url}/api/v3/products/{products[2].pk}/recommend", key, timeout=60)
    assert status == 200, answer  # returned (bounded by the broker timeouts), not killed by gunicorn's timeout
    assert TaskOutbox.objects.filter(
        task="catalog.tasks.product_recommend", args=[products[2].pk, tenant_a.pk]
    ).exists()
    os.kill(broker.process.pid, signal.SIGCONT)

    settings.REDIS_URL = broker.url
    worker = LiveWorker(queue, _start(queue))
    try:
        out = sweep(broker, queue)
        assert int(out.split()[-1]) >= len(kept), out
        for product in (products[0], products[2], lost):
            assert wait_for(
                lambda p=product: Product.objects.get(pk=p.pk).state == ProductState.RECOMMENDED, timeout=120
            ), Product.objects.get(pk=product.pk).state
        assert wait_for(lambda: Collection.objects.get(pk=collection.pk).sort_state == SortState.IDLE, timeout=60)
        assert wait_for(
            lambda: ProductEmbedding.objects.filter(product__tenant=tenant_a, product__external_id=68_200_001).exists(),
            timeout=60,
        )
    finally:
        worker.process.terminate()
        worker.process.wait(timeout=20)
    assert Collection.objects.get(pk=collection.pk).last_sorted_at is not None
    assert not TaskOutbox.objects.exists()
    assert "Traceback" not in web.output()
