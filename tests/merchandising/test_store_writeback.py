"""Sort results written back to the Shopify store, through a live local stand-in of the GraphQL Admin API
(tests/merchandising/shopify_standin.py): a 1,000-product collection in the fewest moves and calls of at most
250, surviving throttles and a transient failure; user errors visible; option order; reverts; superseded
and repeated writebacks; and no connection (or no token) sends nothing."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from merchandising import services, sorting, tasks
from merchandising.models import CollectionProduct, OptionSortRule, ProductSetting, SortRun, StoreWriteback
from tenants import services as tenant_services
from tests import factories
from tests.merchandising.conftest import call, make_collection, ok, sales_recipe
from tests.merchandising.shopify_standin import StandIn, serve

pytestmark = pytest.mark.django_db

TOKEN = "shpat_test_access_token_1234"
DOMAIN = "shop-a.myshopify.com"


@pytest.fixture
def standin(settings):
    shop = StandIn(token=TOKEN)
    server, thread = serve(shop)
    settings.SHOPIFY_ADMIN_BASE_URL = shop.url
    settings.SHOPIFY_WRITEBACK_POLL_SECONDS = 0
    settings.SHOPIFY_WRITEBACK_BACKOFF_SECONDS = 0
    settings.SHOPIFY_WRITEBACK_MAX_RETRIES = 3
    yield shop
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def connected(tenant_a):
    return tenant_services.shop_connection_set(
        tenant=tenant_a, shop_domain=DOMAIN, webhook_secret="shpss_secret_a", access_token=TOKEN
    )


def gid(kind: str, external_id: int) -> str:
    return f"gid://shopify/{kind}/{external_id}"


def db_order(collection) -> list[int]:
    return list(
        CollectionProduct.objects.filter(collection=collection)
        .order_by("position", "id")
        .values_list("product__external_id", flat=True)
    )


def newest_first_collection(tenant, n: int, *, seed: int = 16, external_id: int = 555000111, **fields):
    """n products in a shuffled order, a recipe that sorts newest first (so the sort moves most of them)."""
    now = timezone.now()
    products = Product.objects.bulk_create(
        Product(tenant=tenant, external_id=7_000_000 + i, name=f"P{i}", created_at=now - timedelta(hours=i))
        for i in range(n)
    )
    random.Random(seed).shuffle(products)
    recipe = sales_recipe(tenant, newness=100)
    return make_collection(tenant, products, external_id=external_id, enabled=True, recipe=recipe, **fields)


def shop_has(standin: StandIn, collection, sort_order: str = "BEST_SELLING") -> str:
    key = gid("Collection", collection.external_id)
    standin.collections[key] = {"sortOrder": sort_order, "products": [gid("Product", e) for e in db_order(collection)]}
    return key


def test_a_thousand_product_sort_reaches_the_store_in_the_fewest_moves_through_throttles_and_a_502(
    tenant_a, connected, standin, django_capture_on_commit_callbacks
):
    collection = newest_first_collection(tenant_a, 1000)
    key = shop_has(standin, collection)
    before = db_order(collection)
    # request 1 sets the sort order; then 429 + Retry-After, a THROTTLED answer and a 502 on the way
    standin.faults = {2: "429", 5: "throttled", 9: "502"}
    with django_capture_on_commit_callbacks(execute=True):
        assert services.collection_sort_run(collection_pk=collection.pk) == "done"
    after = db_order(collection)
    run = SortRun.objects.get()
    expected_moves = len(sorting.moved_items(before, after))
    assert run.moves == expected_moves > 900  # a shuffled 1,000: the fewest moves are still most of them

    assert standin.order(key) == [gid("Product", e) for e in after]
    assert standin.collections[key]["sortOrder"] == "MANUAL"
    reorders = standin.calls("collectionReorderProducts")
    assert [len(r["variables"]["moves"]) for r in reorders] == [
        min(250, expected_moves - 250 * i) for i in range(math.ceil(expected_moves / 250))
    ]
    assert standin.calls("collectionUpdate")[0]["variables"]["input"] == {"id": key, "sortOrder": "MANUAL"}
    wb = StoreWriteback.objects.get()
    assert wb.sort_run_id == run.pk and wb.state == "done" and wb.error == ""
    assert (wb.move_count, wb.moves_done, wb.calls) == (expected_moves, expected_moves, 1 + len(reorders))
    assert [j["id"] for j in wb.job_ids] == [f"gid://shopify/Job/{i + 1}" for i in range(len(reorders))]
    assert all(j["done"] for j in wb.job_ids)
    assert wb.throttled == 2 and wb.attempts == 2  # the 502 cost one retry of the task
    assert wb.requests == len(standin.requests)
    # every throttled or failed request was sent again as it was
    for number in (2, 5, 9):
        assert standin.requests[number - 1]["variables"] == standin.requests[number]["variables"]


def test_planned_moves_follow_the_documented_sequential_semantics():
    # Shopify's example: [A, B, C, D, E] with E -> 1 then C -> 4 gives [A, E, B, D, C]
    assert sorting.apply_moves(list("ABCDE"), [("E", 1), ("C", 4)]) == list("AEBDC")
    rng = random.Random(7)
    for _ in range(200):
        current = list(range(rng.randint(0, 60)))
        new = current[:]
        rng.shuffle(new)
        moves = sorting.reorder_moves(current, new)
        assert sorting.apply_moves(current, moves) == new
        assert len(moves) == len(sorting.moved_items(current, new))


def test_no_connection_or_no_token_sends_nothing_and_fails_nothing(
    tenant_a, standin, dynasort, django_capture_on_commit_callbacks
):
    collection = newest_first_collection(tenant_a, 30, revert_sorting="best-selling")
    shop_has(standin, collection)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.collection_sort_run(collection_pk=collection.pk) == "done"
    tenant_services.shop_connection_set(tenant=tenant_a, shop_domain=DOMAIN, webhook_secret="shpss_secret_a")
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_revert(tenant=tenant_a, collection_id=collection.external_id)
    assert standin.requests == []
    assert not StoreWriteback.objects.exists()
    data = ok(call(dynasort, "get_collection", collection_id=collection.external_id))
    assert data["store_writeback"] is None and data["last_sort"]["kind"] == "revert"


def test_a_user_error_fails_the_writeback_visibly_in_get_collection(
    tenant_a, connected, standin, dynasort, django_capture_on_commit_callbacks
):
    collection = newest_first_collection(tenant_a, 20)  # the store does not know this collection
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
    wb = StoreWriteback.objects.get()
    assert wb.state == "failed" and "Collection does not exist" in wb.error
    assert len(standin.requests) == 1  # permanent: not retried
    data = ok(call(dynasort, "get_collection", collection_id=collection.external_id))
    assert data["store_writeback"]["state"] == "failed"
    assert "Collection does not exist" in data["store_writeback"]["error"]
    assert data["sort_status"] == "idle"  # the sort itself succeeded: its order is readable as before


def test_a_refused_token_fails_the_writeback(tenant_a, connected, standin, django_capture_on_commit_callbacks):
    tenant_services.shop_connection_set(tenant=tenant_a, shop_domain=DOMAIN, access_token="shpat_wrong_token")
    collection = newest_first_collection(tenant_a, 10)
    shop_has(standin, collection)
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
    wb = StoreWriteback.objects.get()
    assert wb.state == "failed" and "HTTP 401" in wb.error and wb.attempts == 1


def test_transient_failures_are_retried_a_bounded_number_of_times_then_fail(
    tenant_a, connected, standin, django_capture_on_commit_callbacks
):
    collection = newest_first_collection(tenant_a, 10)
    shop_has(standin, collection)
    standin.faults = dict.fromkeys(range(1, 50), "502")
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
    wb = StoreWriteback.objects.get()
    assert wb.state == "failed" and "gave up after 4 attempts" in wb.error and "HTTP 502" in wb.error
    assert len(standin.requests) == 4  # the first try and SHOPIFY_WRITEBACK_MAX_RETRIES (3) retries


def test_a_completed_writeback_is_not_sent_again(tenant_a, connected, standin, django_capture_on_commit_callbacks):
    collection = newest_first_collection(tenant_a, 40)
    shop_has(standin, collection)
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
    wb = StoreWriteback.objects.get()
    sent = len(standin.requests)
    assert wb.state == "done" and sent > 0
    assert tasks.store_writeback_send.apply(args=(wb.pk,)).get() == "done"
    assert len(standin.requests) == sent


def test_a_newer_sort_supersedes_a_pending_writeback(tenant_a, connected, standin, django_capture_on_commit_callbacks):
    collection = newest_first_collection(tenant_a, 60, revert_sorting="manual")
    key = shop_has(standin, collection)
    store_before = db_order(collection)
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
        services.collection_revert(tenant=tenant_a, collection_id=collection.external_id)
    first, second = StoreWriteback.objects.order_by("id")
    assert (first.state, second.state) == ("superseded", "done")
    # the revert to the merchant's own order needs no move at all: the store never left it
    assert db_order(collection) == store_before and second.move_count == 0
    assert standin.calls("collectionReorderProducts") == [] and standin.order(key) == [
        gid("Product", e) for e in store_before
    ]
    assert standin.collections[key]["sortOrder"] == "MANUAL"


@pytest.mark.parametrize(("revert", "shopify"), [("best-selling", "BEST_SELLING"), ("created-asc", "CREATED")])
def test_a_revert_sets_the_collections_own_sort_order(
    revert, shopify, tenant_a, connected, standin, django_capture_on_commit_callbacks
):
    collection = newest_first_collection(tenant_a, 30, revert_sorting=revert)
    key = shop_has(standin, collection, sort_order="MANUAL")
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_revert(tenant=tenant_a, collection_id=collection.external_id)
    wb = StoreWriteback.objects.get()
    assert (wb.state, wb.sort_order, wb.move_count) == ("done", shopify, 0)
    assert standin.collections[key]["sortOrder"] == shopify
    assert standin.calls("collectionReorderProducts") == []


def test_a_failed_writeback_leaves_the_next_one_starting_from_what_the_store_confirmed(
    tenant_a, connected, standin, django_capture_on_commit_callbacks, settings
):
    collection = newest_first_collection(tenant_a, 600)
    key = shop_has(standin, collection)
    # the first writeback gets its sort order and first 250 moves through, then the store fails for good
    standin.faults = dict.fromkeys(range(5, 9), "502")  # set order, reorder, 2 polls, then 502 x 4
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
    first = StoreWriteback.objects.get()
    assert first.state == "failed" and first.moves_done == 250 < first.move_count
    # new sales data, a new order: the second writeback plans from the store's real (half-sorted) order
    recipe = sales_recipe(tenant_a, "7", newness=50, inventory=50)
    collection.recipe = recipe
    collection.save(update_fields=["recipe"])
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
    second = StoreWriteback.objects.order_by("-id").first()
    assert second.state == "done"
    assert standin.order(key) == [gid("Product", e) for e in db_order(collection)]


def test_an_option_sort_reorders_the_products_options_in_the_store(
    tenant_a, connected, standin, dynasort, django_capture_on_commit_callbacks
):
    product = factories.product(tenant_a, external_id=8_100_001)
    size = factories.option(product, "Size", ["XL", "S", "M"], position=1)
    factories.option(product, "Color", ["Red", "Blue"], position=2)
    for value in ("XL", "S", "M"):
        factories.variant(product, option1=value, option2="Red", inventory_quantity=1)
    ProductSetting.objects.create(tenant=tenant_a, product=product, option_sorting_enabled=True)
    OptionSortRule.objects.create(
        tenant=tenant_a,
        option=size,
        product=product,
        sort_type="common_sizes",
        direction="asc",
        common_size="intl_letters",
    )
    key = gid("Product", product.external_id)
    standin.products[key] = [{"name": "Size", "values": ["XL", "S", "M"]}, {"name": "Color", "values": ["Red", "Blue"]}]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.product_options_sort_run(product_pk=product.pk) == "done"
    size.refresh_from_db()
    assert size.values == ["S", "M", "XL"]
    assert standin.products[key] == [
        {"name": "Size", "values": ["S", "M", "XL"]},
        {"name": "Color", "values": ["Red", "Blue"]},
    ]
    (sent,) = standin.calls("productOptionsReorder")
    assert sent["variables"]["options"][0] == {"name": "Size", "values": [{"name": "S"}, {"name": "M"}, {"name": "XL"}]}
    wb = StoreWriteback.objects.get()
    assert (wb.kind, wb.state, wb.calls) == ("product_options", "done", 1)
    data = ok(call(dynasort, "get_product", product_id=product.external_id))
    assert data["store_writeback"]["state"] == "done" and data["store_writeback"]["sort_order"] is None


def test_the_access_token_is_stored_encrypted_and_never_shown_back(platform, tenant_a):
    url = "/api/platform/v1/shopify/connection"
    body = {"shop_domain": DOMAIN, "webhook_secret": "shpss_secret_a", "access_token": TOKEN}
    shown = platform.put(url, body, format="json").json()
    assert shown["has_access_token"] is True and shown["access_token"] == "…" + TOKEN[-4:]
    assert shown["api_version"] == "2026-07"
    stored = tenant_a.shop_connection
    stored.refresh_from_db()
    assert TOKEN not in stored.access_token and TOKEN not in str(platform.get(url).content)
    # left out: kept (the webhook secret too); null: removed
    kept = platform.put(url, {"shop_domain": DOMAIN, "api_version": "2026-10"}, format="json").json()
    assert kept["has_access_token"] is True and kept["api_version"] == "2026-10"
    removed = platform.put(url, {"shop_domain": DOMAIN, "access_token": None}, format="json").json()
    assert removed["has_access_token"] is False and removed["access_token"] is None
    assert removed["webhook_secret"] == "…et_a"


@pytest.mark.parametrize(
    "body",
    [
        {"shop_domain": DOMAIN, "access_token": TOKEN},  # a new connection needs the webhook secret
        {"shop_domain": DOMAIN, "webhook_secret": "shpss_secret_a", "access_token": "short"},
        {"shop_domain": DOMAIN, "webhook_secret": "shpss_secret_a", "access_token": "has space in it"},
        {"shop_domain": DOMAIN, "webhook_secret": "shpss_secret_a", "api_version": "2026-05"},
        {"shop_domain": DOMAIN, "webhook_secret": "shpss_secret_a", "access_token": 12345678},
    ],
)
def test_bad_connection_input_is_refused_and_changes_nothing(platform, tenant_a, body):
    response = platform.put("/api/platform/v1/shopify/connection", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert not type(tenant_a).objects.filter(pk=tenant_a.pk, shop_connection__isnull=False).exists()


def test_admin_sets_and_removes_the_token_without_ever_showing_it(admin_client, tenant_a, connected):
    url = f"/admin/tenants/shopconnection/{connected.pk}/change/"
    other = "shpat_admin_typed_token_9876"
    form = {"tenant": tenant_a.pk, "shop_domain": DOMAIN, "api_version": "", "new_access_token": other}
    assert admin_client.post(url, form).status_code == 302
    connected.refresh_from_db()
    assert tenant_services.shop_connection_access_token(connected) == other
    assert tenant_services.shop_connection_secrets(connected) == ["shpss_secret_a"]  # the secret kept
    for page in ("/admin/tenants/shopconnection/", url):
        text = admin_client.get(page).content.decode()
        assert other not in text and other[-4:] in text
    form = {"tenant": tenant_a.pk, "shop_domain": DOMAIN, "api_version": "", "remove_access_token": "on"}
    assert admin_client.post(url, form).status_code == 302
    connected.refresh_from_db()
    assert connected.access_token == ""


def test_admin_shows_the_writeback_on_its_run_read_only(
    admin_client, tenant_a, connected, standin, django_capture_on_commit_callbacks
):
    collection = newest_first_collection(tenant_a, 5)  # unknown to the store: the writeback fails
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
    run, wb = SortRun.objects.get(), StoreWriteback.objects.get()
    page = admin_client.get(f"/admin/merchandising/sortrun/{run.pk}/change/").content.decode()
    assert "failed: MANUAL" in page and "Collection does not exist" in page
    assert admin_client.get("/admin/merchandising/storewriteback/").status_code == 200
    assert admin_client.get(f"/admin/merchandising/storewriteback/{wb.pk}/change/").status_code == 200
    assert admin_client.get("/admin/merchandising/storewriteback/add/").status_code == 403


def test_get_collection_with_a_writeback_answers_its_documented_schema(
    tenant_a, connected, standin, dynasort, django_capture_on_commit_callbacks
):
    import jsonschema

    from tests.contracts.test_openapi import _json_schema, generate

    collection = newest_first_collection(tenant_a, 30)
    shop_has(standin, collection)
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=collection.pk)
    data = ok(call(dynasort, "get_collection", collection_id=collection.external_id))
    assert data["store_writeback"]["state"] == "done" and data["store_writeback"]["job_ids"] == ["gid://shopify/Job/1"]
    schema, *_ = generate("merchandising")
    branch = next(
        b
        for b in schema["components"]["schemas"]["DynasortResult"]["properties"]["data"]["anyOf"]
        if b["title"] == "get_collection"
    )
    jsonschema.validate(data, _json_schema({**branch, "components": schema["components"]}))


def test_a_writeback_waits_for_the_one_being_sent_and_follows_it(
    tenant_a, connected, standin, django_capture_on_commit_callbacks
):
    collection = newest_first_collection(tenant_a, 80)
    key = shop_has(standin, collection)
    with django_capture_on_commit_callbacks(execute=False):
        services.collection_sort_run(collection_pk=collection.pk)
    first = StoreWriteback.objects.get()
    # a worker has started sending it (nothing reached the store yet)
    StoreWriteback.objects.filter(pk=first.pk).update(state="sending", task_id="worker-1", attempts=1)
    boosted = Product.objects.filter(tenant=tenant_a).order_by("external_id")[40:45]
    ProductSetting.objects.bulk_create(ProductSetting(tenant=tenant_a, product=p, boost=1000) for p in boosted)
    with django_capture_on_commit_callbacks(execute=False):
        services.collection_sort_run(collection_pk=collection.pk)
    second = StoreWriteback.objects.exclude(pk=first.pk).get()
    assert second.state == "pending"  # one being sent is not superseded
    assert tasks.store_writeback_send.apply(args=(second.pk,)).get() == "busy"
    assert standin.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.store_writeback_send.apply(args=(first.pk,), task_id="worker-1").get() == "done"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("done", "done")
    assert second.move_count == len(sorting.moved_items(first.target_order, second.target_order)) > 0
    assert standin.order(key) == [gid("Product", e) for e in db_order(collection)]


@pytest.fixture
def standin_for_worker(monkeypatch):
    """The stand-in, and the settings the worker process reads from its environment pointing at it."""
    shop = StandIn(token=TOKEN, retry_after="0")
    server, thread = serve(shop)
    for name, value in {
        "SHOPIFY_ADMIN_BASE_URL": shop.url,
        "SHOPIFY_WRITEBACK_POLL_SECONDS": "0",
        "SHOPIFY_WRITEBACK_BACKOFF_SECONDS": "0.2",
        "SHOPIFY_WRITEBACK_MAX_RETRIES": "3",
    }.items():
        monkeypatch.setenv(name, value)
    yield shop
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_back_and_retries_a_502_through_the_broker(
    standin_for_worker, live_celery_worker, tenant_a
):
    from tests.celery_worker import wait_for

    tenant_services.shop_connection_set(
        tenant=tenant_a, shop_domain=DOMAIN, webhook_secret="shpss_secret_a", access_token=TOKEN
    )
    collection = newest_first_collection(tenant_a, 300)
    key = shop_has(standin_for_worker, collection)
    standin_for_worker.faults = {2: "429", 4: "502"}
    assert services.collection_sort_run(collection_pk=collection.pk) == "done"
    assert wait_for(lambda: StoreWriteback.objects.filter(state__in=["done", "failed"]).exists(), timeout=90)
    wb = StoreWriteback.objects.get()
    assert (wb.state, wb.error) == ("done", "")
    assert wb.attempts == 2 and wb.throttled == 1  # the 502 went back through the broker as a Celery retry
    assert standin_for_worker.order(key) == [gid("Product", e) for e in db_order(collection)]


def test_another_shops_token_is_never_used_and_its_writebacks_never_shown(
    tenant_a, tenant_b, standin, dynasort, django_capture_on_commit_callbacks
):
    tenant_services.shop_connection_set(
        tenant=tenant_b, shop_domain="shop-b.myshopify.com", webhook_secret="shpss_secret_b", access_token=TOKEN
    )
    mine = newest_first_collection(tenant_a, 20, external_id=4242)
    theirs = newest_first_collection(tenant_b, 20, external_id=4242, seed=3)
    shop_has(standin, theirs)
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=mine.pk)  # A has no connection: nothing is sent
    assert standin.requests == [] and not StoreWriteback.objects.filter(tenant=tenant_a).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_sort_run(collection_pk=theirs.pk)
    assert StoreWriteback.objects.get().tenant_id == tenant_b.pk
    assert ok(call(dynasort, "get_collection", collection_id=4242))["store_writeback"] is None


def test_an_option_writeback_the_store_refuses_is_visible_in_get_product(
    tenant_a, connected, standin, dynasort, django_capture_on_commit_callbacks
):
    product = factories.product(tenant_a, external_id=8_100_002)  # the store does not know it
    size = factories.option(product, "Size", ["L", "S"], position=1)
    ProductSetting.objects.create(tenant=tenant_a, product=product, option_sorting_enabled=True)
    OptionSortRule.objects.create(tenant=tenant_a, option=size, product=product, sort_type="alphabetical")
    with django_capture_on_commit_callbacks(execute=True):
        services.product_options_sort_run(product_pk=product.pk)
    shown = ok(call(dynasort, "get_product", product_id=product.external_id))["store_writeback"]
    assert shown["state"] == "failed" and "Product does not exist" in shown["error"]
