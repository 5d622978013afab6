"""Shopify webhook intake: signed deliveries (good, bad, rotated secret, duplicate, stale, out of order), each
topic through the sync services, the sold-out re-sort (once per burst, in a real worker), and the connection
endpoints with their tenant isolation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client, TestCase

from catalog import webhooks
from catalog.models import DailySales, InventoryLevel, Order, Product, Variant, WebhookDelivery
from merchandising.models import Collection, SortRun, SortState
from tenants import services as tenant_services
from tenants.models import ShopConnection
from tests import factories
from tests.celery_worker import wait_for
from tests.merchandising.conftest import make_collection, sales_recipe

pytestmark = pytest.mark.django_db

URL = "/api/platform/v1/shopify/webhooks"
SECRET = "shpss_test_secret_one"
NEW_SECRET = "shpss_test_secret_two"
DOMAIN_A = "shop-a.myshopify.com"
DOMAIN_B = "shop-b.myshopify.com"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _inline_tasks():
    """Tasks run inline (with REDIS_URL set they would go to a broker); the burst test starts a real worker,
    which turns this off for itself."""
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def connected(tenant_a, tenant_b):
    tenant_services.shop_connection_set(tenant=tenant_a, shop_domain=DOMAIN_A, webhook_secret=SECRET)
    tenant_services.shop_connection_set(tenant=tenant_b, shop_domain=DOMAIN_B, webhook_secret="shpss_other_shop_b")


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


_events = iter(range(1, 10**6))


def deliver(
    topic: str,
    payload: dict,
    *,
    event_id: str | None = None,
    at: datetime | None = T0,
    secret: str = SECRET,
    domain: str = DOMAIN_A,
    signature: str | None = None,
):
    body = json.dumps(payload).encode()
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": domain,
        "HTTP_X_SHOPIFY_HMAC_SHA256": signature if signature is not None else sign(body, secret),
        "HTTP_X_SHOPIFY_EVENT_ID": event_id or f"evt-{next(_events)}",
    }
    if at is not None:
        headers["HTTP_X_SHOPIFY_TRIGGERED_AT"] = at.isoformat()
    # the test's transaction never commits: run what the intake queues on commit (the processing task)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().generic("POST", URL, body, content_type="application/json", **headers)


def product_payload(pid: int = 9001, *, title: str = "Wool Scarf", quantity: int = 3, item: int = 77001) -> dict:
    return {
        "id": pid,
        "title": title,
        "vendor": "Northwind",
        "product_type": "Scarves",
        "status": "active",
        "admin_graphql_api_id": f"gid://shopify/Product/{pid}",
        "options": [{"id": pid * 10, "name": "Title", "position": 1, "values": ["Default Title"]}],
        "variants": [
            {
                "id": pid * 10 + 1,
                "title": "Default Title",
                "option1": "Default Title",
                "price": "25.00",
                "inventory_quantity": quantity,
                "inventory_management": "shopify",
                "inventory_policy": "deny",
                "inventory_item_id": item,
            }
        ],
    }


def accepted(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return response.json()


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == code and "error" in body, body
    return body


# ---- signatures ------------------------------------------------------------------------------------------


def test_signed_product_create_is_applied_through_the_sync(connected, tenant_a):
    assert accepted(deliver("products/create", product_payload()))["status"] == "accepted"
    product = Product.objects.get(tenant=tenant_a, external_id=9001)
    variant = product.variants.get()
    assert (product.name, variant.inventory_quantity, variant.inventory_item_id) == ("Wool Scarf", 3, 77001)
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.PROCESSED


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("wrong secret", {"secret": "not-the-secret"}),
        ("no signature", {"signature": ""}),
        ("garbage signature", {"signature": "%%%"}),
        ("unknown shop", {"domain": "nobody.myshopify.com"}),
        ("another shop's domain", {"domain": DOMAIN_B}),
    ],
)
def test_a_delivery_that_does_not_verify_is_refused_and_stores_nothing(connected, case, kwargs):
    refused(deliver("products/create", product_payload(), **kwargs), 401, "INVALID_SIGNATURE")
    assert not WebhookDelivery.objects.exists() and not Product.objects.exists()


def post_raw(body: bytes, signature: str, **headers: str):
    """A delivery built by hand: the body and headers exactly as given (``deliver`` builds valid ones)."""
    headers = {"HTTP_X_SHOPIFY_TOPIC": "products/create", "HTTP_X_SHOPIFY_SHOP_DOMAIN": DOMAIN_A, **headers}
    return Client().generic(
        "POST", URL, body, content_type="application/json", HTTP_X_SHOPIFY_HMAC_SHA256=signature, **headers
    )


def test_signature_is_checked_on_the_raw_body_before_parsing(connected):
    body = b'{"id": 1, "id": 2}'  # duplicate keys: refused by the parser, but only once signed
    refused(post_raw(body, sign(body + b" "), HTTP_X_SHOPIFY_EVENT_ID="e1"), 401, "INVALID_SIGNATURE")
    refused(post_raw(body, sign(body), HTTP_X_SHOPIFY_EVENT_ID="e1"), 400, "VALIDATION_ERROR")


def test_rotation_accepts_both_secrets_until_it_ends(connected, tenant_a):
    tenant_services.shop_connection_set(
        tenant=tenant_a, shop_domain=DOMAIN_A, webhook_secret=NEW_SECRET, keep_previous_secret=True
    )
    accepted(deliver("products/create", product_payload(9001), secret=SECRET))
    accepted(deliver("products/create", product_payload(9002), secret=NEW_SECRET))
    tenant_services.shop_connection_rotation_end(tenant=tenant_a)
    refused(deliver("products/create", product_payload(9003), secret=SECRET), 401, "INVALID_SIGNATURE")
    accepted(deliver("products/create", product_payload(9004), secret=NEW_SECRET))
    assert sorted(Product.objects.values_list("external_id", flat=True)) == [9001, 9002, 9004]


def test_secrets_are_stored_encrypted(connected, tenant_a):
    stored = ShopConnection.objects.get(tenant=tenant_a).webhook_secret
    assert SECRET not in stored and tenant_services.shop_connection_secrets(
        ShopConnection.objects.get(tenant=tenant_a)
    ) == [SECRET]


def test_missing_event_id_or_bad_trigger_time_is_a_400(connected):
    body = json.dumps(product_payload()).encode()
    refused(post_raw(body, sign(body)), 400, "VALIDATION_ERROR")
    bad_time = post_raw(body, sign(body), HTTP_X_SHOPIFY_EVENT_ID="e9", HTTP_X_SHOPIFY_TRIGGERED_AT="yesterday")
    refused(bad_time, 400, "VALIDATION_ERROR")
    assert not WebhookDelivery.objects.exists()


def test_get_is_refused_in_the_platform_form(connected):
    refused(Client().get(URL), 405, "METHOD_NOT_ALLOWED")


# ---- duplicates, staleness, order ------------------------------------------------------------------------


def test_a_repeated_event_is_answered_and_applied_once(connected, tenant_a):
    order = {
        "id": 5001,
        "created_at": "2026-11-01T10:00:00Z",
        "cancelled_at": None,
        "line_items": [{"product_id": 9001, "variant_id": 90011, "quantity": 2, "price": "25.00"}],
    }
    accepted(deliver("products/create", product_payload()))
    assert accepted(deliver("orders/create", order, event_id="order-evt"))["status"] == "accepted"
    assert accepted(deliver("orders/create", order, event_id="order-evt"))["status"] == "duplicate"
    assert WebhookDelivery.objects.filter(event_id="order-evt").count() == 1
    assert Order.objects.get(tenant=tenant_a).lines.count() == 1
    assert DailySales.objects.get(tenant=tenant_a).units == 2


def test_an_older_delivery_arriving_late_is_dropped_as_stale(connected, tenant_a):
    accepted(deliver("products/update", product_payload(title="Newer title"), at=T0 + timedelta(minutes=5)))
    accepted(deliver("products/update", product_payload(title="Older title"), at=T0))
    assert Product.objects.get(tenant=tenant_a, external_id=9001).name == "Newer title"
    states = dict(WebhookDelivery.objects.values_list("payload__title", "state"))
    assert states == {"Newer title": "processed", "Older title": "stale"}


def test_out_of_order_cancel_then_create_keeps_the_order_cancelled(connected, tenant_a):
    accepted(deliver("products/create", product_payload()))
    line = {"product_id": 9001, "variant_id": 90011, "quantity": 4, "price": "25.00"}
    created = {"id": 5002, "created_at": "2026-11-01T10:00:00Z", "cancelled_at": None, "line_items": [line]}
    cancelled = {**created, "cancelled_at": "2026-11-01T11:00:00Z"}
    accepted(deliver("orders/cancelled", cancelled, at=T0 + timedelta(hours=1)))
    accepted(deliver("orders/create", created, at=T0))  # Shopify's retry of the earlier event
    assert Order.objects.get(tenant=tenant_a, external_id=5002).cancelled_at is not None
    assert not DailySales.objects.filter(tenant=tenant_a, units__gt=0).exists()


def test_a_payload_the_sync_refuses_is_recorded_as_rejected(connected, tenant_a):
    accepted(deliver("products/create", {**product_payload(), "variants": [{"id": 1, "price": "-3"}]}))
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.REJECTED and "price" in delivery.detail
    assert not Product.objects.exists()


def test_an_unhandled_topic_is_acknowledged_and_ignored(connected):
    accepted(deliver("customers/create", {"id": 1}))
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.IGNORED


def test_processing_twice_applies_once(connected, tenant_a):
    accepted(deliver("products/create", product_payload()))
    delivery = WebhookDelivery.objects.get()
    assert webhooks.delivery_process(delivery_id=delivery.pk) == "processed"  # already done: nothing again
    assert Product.objects.filter(tenant=tenant_a).count() == 1


# ---- topics ----------------------------------------------------------------------------------------------


def test_product_delete_removes_the_product(connected, tenant_a):
    accepted(deliver("products/create", product_payload(), at=T0))
    accepted(deliver("products/delete", {"id": 9001}, at=T0 + timedelta(minutes=1)))
    assert not Product.objects.filter(tenant=tenant_a).exists()
    accepted(deliver("products/delete", {"id": 9001}, at=T0 + timedelta(minutes=2)))  # again: harmless


def test_inventory_levels_move_the_variant_total_by_location(connected, tenant_a):
    accepted(deliver("products/create", product_payload(quantity=3)))
    level = {"inventory_item_id": 77001, "location_id": 1, "available": 5}
    accepted(deliver("inventory_levels/update", level, at=T0 + timedelta(seconds=1)))
    variant = Variant.objects.get(tenant=tenant_a)
    assert variant.inventory_quantity == 5  # the only location known: it is the total
    accepted(deliver("inventory_levels/update", {**level, "location_id": 2, "available": 4}, at=T0))
    variant.refresh_from_db()
    assert variant.inventory_quantity == 9  # a second location adds
    accepted(deliver("inventory_levels/update", {**level, "available": 1}, at=T0 + timedelta(seconds=2)))
    variant.refresh_from_db()
    assert variant.inventory_quantity == 5  # location 1 went 5 -> 1
    assert dict(InventoryLevel.objects.values_list("location_id", "available")) == {1: 1, 2: 4}


def test_an_inventory_level_for_an_unknown_item_is_kept_for_later(connected, tenant_a):
    accepted(deliver("inventory_levels/update", {"inventory_item_id": 123, "location_id": 1, "available": 5}))
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.PROCESSED
    assert InventoryLevel.objects.get(tenant=tenant_a).available == 5


def test_collections_topics_keep_the_collection_details(connected, tenant_a):
    payload = {"id": 4401, "title": "Winter", "handle": "winter", "sort_order": "best-selling", "body_html": ""}
    accepted(deliver("collections/create", payload, at=T0))
    accepted(deliver("collections/update", {**payload, "title": "Winter Sale"}, at=T0 + timedelta(minutes=1)))
    collection = Collection.objects.get(tenant=tenant_a, external_id=4401)
    assert (collection.title, collection.handle, collection.shop_sort_order) == (
        "Winter Sale",
        "winter",
        "best-selling",
    )
    accepted(deliver("collections/delete", {"id": 4401}, at=T0 + timedelta(minutes=2)))
    assert not Collection.objects.filter(tenant=tenant_a).exists()


def test_sweep_requeues_a_lost_delivery(connected, tenant_a):
    delivery = WebhookDelivery.objects.create(
        tenant=tenant_a,
        event_id="lost",
        topic="products/create",
        payload=product_payload(),
        received_at=T0,
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        requeued, deleted = webhooks.deliveries_sweep(now=T0 + timedelta(minutes=5))
    assert (requeued, deleted) == (1, 0)
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PROCESSED and Product.objects.filter(tenant=tenant_a).exists()
    assert webhooks.deliveries_sweep(now=T0 + timedelta(days=8)) == (0, 1)


# ---- tenant isolation ------------------------------------------------------------------------------------


def test_a_delivery_for_one_shop_never_touches_another(connected, tenant_a, tenant_b):
    other = factories.product(tenant_b, external_id=9001, name="B's product")
    factories.variant(other, inventory_quantity=7, inventory_item_id=77001)
    accepted(deliver("products/update", product_payload(title="A's product")))
    accepted(deliver("inventory_levels/update", {"inventory_item_id": 77001, "location_id": 1, "available": 0}))
    accepted(deliver("products/delete", {"id": 9001}, at=T0 + timedelta(minutes=1)))
    other.refresh_from_db()
    assert other.name == "B's product" and other.variants.get().inventory_quantity == 7
    assert not Product.objects.filter(tenant=tenant_a).exists()


# ---- sold-out re-sort --------------------------------------------------------------------------------------


def _enabled_collection(tenant):
    products, today = [], datetime.now(UTC).date()
    for i, units in enumerate((5, 3, 1)):
        p = factories.product(tenant, external_id=9100 + i)
        v = factories.variant(p, inventory_quantity=2, inventory_item_id=88000 + i, price=Decimal("10.00"))
        factories.sale(v, on=today, units=units)
        products.append(p)
    return make_collection(tenant, products, enabled=True, recipe=sales_recipe(tenant))


def test_a_sold_out_flip_queues_a_sort_of_enabled_collections(connected, tenant_a):
    collection = _enabled_collection(tenant_a)
    accepted(deliver("inventory_levels/update", {"inventory_item_id": 88000, "location_id": 1, "available": 0}))
    runs = SortRun.objects.filter(collection=collection)
    assert runs.count() == 1
    order = list(collection.memberships.order_by("position").values_list("product__external_id", flat=True))
    assert order == [9101, 9102, 9100]  # the best seller sold out and sank
    # a stock change that flips nothing sorts nothing
    accepted(deliver("inventory_levels/update", {"inventory_item_id": 88001, "location_id": 1, "available": 9}))
    assert runs.count() == 1


@pytest.fixture
def quick_debounce(monkeypatch, settings):
    """A 5-second debounce window, for this process and the worker started after it."""
    settings.SHOPIFY_RESORT_DEBOUNCE_SECONDS = 5.0
    monkeypatch.setenv("SHOPIFY_RESORT_DEBOUNCE_SECONDS", "5")


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_sold_out_webhooks_sorts_the_collection_once(quick_debounce, live_celery_worker, tenant_a):
    tenant_services.shop_connection_set(tenant=tenant_a, shop_domain=DOMAIN_A, webhook_secret=SECRET)
    collection = _enabled_collection(tenant_a)
    # three products sell out and one comes back, in quick succession, each its own webhook
    for item, available in [(88000, 0), (88001, 0), (88002, 0), (88000, 4)]:
        accepted(
            deliver("inventory_levels/update", {"inventory_item_id": item, "location_id": 1, "available": available})
        )
    assert wait_for(
        lambda: not WebhookDelivery.objects.filter(state=WebhookDelivery.State.RECEIVED).exists(), timeout=60
    )
    assert wait_for(lambda: SortRun.objects.filter(collection=collection).exists(), timeout=60)
    assert wait_for(lambda: Collection.objects.get(pk=collection.pk).sort_state == SortState.IDLE, timeout=60)
    assert SortRun.objects.filter(collection=collection).count() == 1
    order = list(collection.memberships.order_by("position").values_list("product__external_id", flat=True))
    assert order == [9100, 9101, 9102]  # 9100 is back in stock and sells best; the others sank in sales order


# ---- the connection endpoints ----------------------------------------------------------------------------

CONNECTION = "/api/platform/v1/shopify/connection"


def test_connection_is_set_and_shown_masked(api, keys_a):
    admin = api(keys_a.admin.plaintext)
    response = admin.put(CONNECTION, {"shop_domain": "Shop-A.myshopify.com", "webhook_secret": SECRET}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["shop_domain"] == DOMAIN_A and body["webhook_secret"] == "…" + SECRET[-4:]
    assert body["previous_webhook_secret"] is None and SECRET not in json.dumps(body)
    assert body["webhook_url"].endswith(URL) and "inventory_levels/update" in body["topics"]
    rotated = admin.put(
        CONNECTION, {"shop_domain": DOMAIN_A, "webhook_secret": NEW_SECRET, "keep_previous_secret": True}, format="json"
    ).json()
    assert rotated["previous_webhook_secret"] == "…" + SECRET[-4:]
    ended = admin.post(CONNECTION + "/end-rotation").json()
    assert ended["previous_webhook_secret"] is None
    assert admin.delete(CONNECTION).status_code == 204
    assert admin.get(CONNECTION).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"shop_domain": "example.com", "webhook_secret": SECRET},
        {"shop_domain": DOMAIN_A, "webhook_secret": "short"},
        {"shop_domain": DOMAIN_A, "webhook_secret": SECRET, "secret": "typo"},
        {"shop_domain": DOMAIN_A},
    ],
)
def test_connection_bad_input_is_a_400_and_changes_nothing(api, keys_a, body):
    response = api(keys_a.admin.plaintext).put(CONNECTION, body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"
    assert not ShopConnection.objects.exists()


def test_connection_needs_an_admin_key(api, keys_a):
    for key in (keys_a.read, keys_a.write):
        response = api(key.plaintext).put(
            CONNECTION, {"shop_domain": DOMAIN_A, "webhook_secret": SECRET}, format="json"
        )
        assert response.status_code == 403
    assert not ShopConnection.objects.exists()


def test_connection_is_per_tenant(api, keys_a, keys_b):
    api(keys_a.admin.plaintext).put(CONNECTION, {"shop_domain": DOMAIN_A, "webhook_secret": SECRET}, format="json")
    assert api(keys_b.admin.plaintext).get(CONNECTION).status_code == 404
    taken = api(keys_b.admin.plaintext).put(
        CONNECTION, {"shop_domain": DOMAIN_A, "webhook_secret": "shpss_b_secret"}, format="json"
    )
    assert taken.status_code == 409
    assert api(keys_b.admin.plaintext).delete(CONNECTION).status_code == 204  # B's own (none): idempotent
    assert ShopConnection.objects.get().shop_domain == DOMAIN_A


# ---- the admin -------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw-not-used-elsewhere")
    client.force_login(user)
    return client


def test_admin_connects_a_store_without_ever_showing_the_secret(staff_client, tenant_a):
    response = staff_client.post(
        "/admin/tenants/shopconnection/add/",
        {"tenant": tenant_a.pk, "shop_domain": DOMAIN_A, "new_webhook_secret": SECRET},
    )
    assert response.status_code == 302, response.content[:500]
    connection = ShopConnection.objects.get(tenant=tenant_a)
    assert tenant_services.shop_connection_secrets(connection) == [SECRET]
    for url in ("/admin/tenants/shopconnection/", f"/admin/tenants/shopconnection/{connection.pk}/change/"):
        page = staff_client.get(url).content.decode()
        assert SECRET not in page and SECRET[-4:] in page


def test_admin_lists_deliveries_read_only(staff_client, connected):
    accepted(deliver("products/create", product_payload()))
    assert staff_client.get("/admin/catalog/webhookdelivery/").status_code == 200
    assert staff_client.get("/admin/catalog/webhookdelivery/add/").status_code == 403


def test_a_delivery_that_fails_for_good_is_recorded_and_not_swept_again(connected, tenant_a, monkeypatch):
    def broken(tenant, payload):
        raise RuntimeError("handler bug")

    monkeypatch.setitem(webhooks.HANDLERS, "products/create", webhooks.Handler(webhooks.by_id("product"), broken))
    accepted(deliver("products/create", product_payload()))
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.FAILED and "handler bug" in delivery.detail
    later = delivery.received_at + timedelta(minutes=5)
    assert webhooks.deliveries_sweep(now=later) == (0, 0)
