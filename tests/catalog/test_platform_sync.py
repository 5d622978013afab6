"""Platform sync: PUT /api/platform/v1/products and POST /api/platform/v1/orders (Shopify objects in)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from catalog.gtin import check_digit
from catalog.models import DailySales, Order, OrderLine, Product, ProductGtin, ProductOption, Variant
from tenants.services import tenant_create
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def gtin13(n: int) -> str:
    data = f"50{n:010d}"
    return data + str(check_digit(data))


def shopify_product(pid: int, *, n_variants: int = 3, **overrides) -> dict:
    item = {
        "id": pid,
        "title": f"Linen Shirt {pid}",
        "body_html": "<p>Breathable <b>linen</b></p>",
        "vendor": "Northwind",
        "product_type": "Shirts",
        "handle": f"linen-shirt-{pid}",
        "status": "active",
        "tags": ["summer", "linen"],
        "created_at": "2025-03-01T10:00:00-05:00",
        "image": {"src": f"https://cdn.example.com/{pid}.jpg", "width": 800},
        "options": [{"id": pid * 10, "name": "Size", "position": 1, "values": ["S", "M", "L"][:n_variants]}],
        "variants": [
            {
                "id": pid * 100 + n,
                "title": size,
                "option1": size,
                "price": "49.90",
                "compare_at_price": "59.90" if n == 0 else None,
                "cost": "20.00",
                "sku": f"LS-{pid}-{size}",
                "barcode": gtin13(pid * 100 + n),
                "inventory_quantity": 5 - n,
                "inventory_policy": "continue" if n == 1 else "deny",
                "inventory_management": None if n == 2 else "shopify",
                "created_at": "2025-03-01T10:00:00Z",
                "admin_graphql_api_id": "ignored",
            }
            for n, size in enumerate(["S", "M", "L"][:n_variants])
        ],
        "admin_graphql_api_id": "gid://shopify/Product/1",
    }
    item.update(overrides)
    return item


@pytest.fixture
def platform_w(keys_a):
    return client_for(keys_a.write.plaintext)


def put(client, items):
    return client.put("/api/platform/v1/products", {"products": items}, format="json")


def ids(body: dict, status: str) -> list:
    """The ids of the items a bulk answer gives ``status`` (apikeys/api/results.py), in request order."""
    return [r["id"] for r in body["results"] if r["status"] == status]


def rejections(body: dict) -> list[dict]:
    return [r for r in body["results"] if r["status"] == "rejected"]


def test_sync_creates_products_with_options_variants_and_gtins(platform_w, tenant_a):
    response = put(platform_w, [shopify_product(1), shopify_product(2, n_variants=1)])
    assert response.status_code == 200, response.content
    assert response.json() == {
        "results": [{"index": 0, "id": 1, "status": "created"}, {"index": 1, "id": 2, "status": "created"}],
        "counts": {"created": 2, "updated": 0, "duplicate": 0, "rejected": 0},
    }
    product = Product.objects.get(tenant=tenant_a, external_id=1)
    assert product.name == "Linen Shirt 1" and product.brand == "Northwind" and product.product_type == "Shirts"
    assert product.description == "<p>Breathable <b>linen</b></p>" and product.tags == "summer, linen"
    assert product.image == "https://cdn.example.com/1.jpg" and product.status == "active"
    assert product.created_at.isoformat() == "2025-03-01T15:00:00+00:00"
    assert product.suggested_category_name == "Shirts" and product.state == "new"
    assert list(ProductOption.objects.filter(product=product).values_list("name", "position", "values")) == [
        ("Size", 1, ["S", "M", "L"])
    ]
    s, m, large = Variant.objects.filter(product=product).order_by("position")
    assert (s.external_id, s.price, s.compare_at_price, s.cost) == (
        100,
        Decimal("49.90"),
        Decimal("59.90"),
        Decimal("20.00"),
    )
    assert (s.inventory_quantity, s.inventory_tracked, s.continue_selling) == (5, True, False)
    assert m.continue_selling is True and m.inventory_tracked is True
    assert large.inventory_tracked is False and large.compare_at_price is None
    assert product.gtin == "0" + gtin13(100)
    assert ProductGtin.objects.filter(product=product).count() == 3


def test_resync_is_idempotent(platform_w, tenant_a):
    items = [shopify_product(1), shopify_product(2)]
    put(platform_w, items)
    before = list(Product.objects.filter(tenant=tenant_a).order_by("pk").values_list("pk", "updated_at"))
    response = put(platform_w, items)
    assert response.json() == {
        "results": [{"index": 0, "id": 1, "status": "updated"}, {"index": 1, "id": 2, "status": "updated"}],
        "counts": {"created": 0, "updated": 2, "duplicate": 0, "rejected": 0},
    }
    assert list(Product.objects.filter(tenant=tenant_a).order_by("pk").values_list("pk", "updated_at")) == before
    assert Variant.objects.filter(tenant=tenant_a).count() == 6
    assert ProductOption.objects.filter(tenant=tenant_a).count() == 2
    assert ProductGtin.objects.filter(tenant=tenant_a).count() == 6


def test_resync_applies_changes_and_drops_removed_variants(platform_w, tenant_a):
    put(platform_w, [shopify_product(1)])
    changed = shopify_product(1, n_variants=2, title="Linen Shirt (new)")
    changed["variants"][0]["price"] = "39.90"
    assert ids(put(platform_w, [changed]).json(), "updated") == [1]
    product = Product.objects.get(tenant=tenant_a, external_id=1)
    assert product.name == "Linen Shirt (new)"
    assert list(Variant.objects.filter(product=product).order_by("position").values_list("external_id", "price")) == [
        (100, Decimal("39.90")),
        (101, Decimal("49.90")),
    ]
    assert ProductGtin.objects.filter(product=product).count() == 2


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"title": None}, "title"),
        ({"title": "t" * 10_000}, "title"),
        ({"id": -4}, "id"),
        ({"status": "deleted"}, "status"),
        ({"tags": 5}, "tags"),
        ({"image": {"src": "not a url"}}, "image.src"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"variants": [{"id": 9, "price": "abc"}]}, "variants.0.price"),
        ({"variants": [{"id": 9, "price": "-1.00"}]}, "variants.0.price"),
        ({"variants": [{"id": 9, "price": "1", "inventory_quantity": "many"}]}, "variants.0.inventory_quantity"),
        ({"variants": [{"id": 9, "price": "1"}, {"id": 9, "price": "2"}]}, "variants"),
        ({"options": [{"name": "Size", "position": 9, "values": []}]}, "options.0.position"),
    ],
)
def test_an_invalid_item_is_rejected_whole_and_the_others_applied(platform_w, tenant_a, broken, field):
    response = put(platform_w, [shopify_product(1), shopify_product(2, **broken)])
    assert response.status_code == 200
    body = response.json()
    assert ids(body, "created") == [1] and ids(body, "updated") == []
    [rejection] = rejections(body)
    assert rejection["index"] == 1 and field in rejection["errors"], rejection
    assert rejection["id"] == (2 if field != "id" else -4) and set(rejection) == {"index", "id", "status", "errors"}
    assert body["counts"] == {"created": 1, "updated": 0, "duplicate": 0, "rejected": 1}
    assert list(Product.objects.filter(tenant=tenant_a).values_list("external_id", flat=True)) == [1]
    assert not Variant.objects.filter(tenant=tenant_a, external_id=9).exists()


def test_duplicate_ids_in_one_request_reject_the_later_item(platform_w, tenant_a):
    body = put(platform_w, [shopify_product(1), shopify_product(1, title="again")]).json()
    assert body["results"] == [
        {"index": 0, "id": 1, "status": "created"},
        {"index": 1, "id": 1, "status": "rejected", "errors": {"id": ["Duplicate product id in this request."]}},
    ]
    assert Product.objects.get(tenant=tenant_a, external_id=1).name == "Linen Shirt 1"


def test_a_variant_of_another_product_rejects_the_item(platform_w, tenant_a):
    put(platform_w, [shopify_product(1)])
    thief = shopify_product(2)
    thief["variants"][0]["id"] = 100  # product 1's variant
    body = put(platform_w, [thief]).json()
    assert body["results"] == [
        {"index": 0, "id": 2, "status": "rejected", "errors": {"variants": ["Variant 100 belongs to product 1."]}}
    ]
    assert Variant.objects.get(tenant=tenant_a, external_id=100).product.external_id == 1
    assert not Product.objects.filter(tenant=tenant_a, external_id=2).exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"products": []}, {"products": "x"}, {"products": [{}] * 1001}, {"products": [], "extra": 1}, [1], "x"],
)
def test_malformed_envelope_is_400_in_platform_form(platform_w, tenant_a, body):
    response = platform_w.put("/api/platform/v1/products", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert not Product.objects.exists()


def test_sync_needs_write_permission(keys_a, tenant_a):
    response = put(client_for(keys_a.read.plaintext), [shopify_product(1)])
    assert response.status_code == 403 and response.json()["code"] == "INSUFFICIENT_PERMISSIONS"
    assert not Product.objects.exists()


def test_sync_needs_the_enterprise_plan(make_key):
    growth = tenant_create(domain="growth.myshopify.com", name="G", plan="growth")
    key = make_key(growth, "write")
    assert put(client_for(key.plaintext), [shopify_product(1)]).status_code == 403
    assert not Product.objects.exists()


def test_sync_writes_only_the_keys_tenant(keys_a, keys_b, tenant_a, tenant_b):
    put(client_for(keys_a.write.plaintext), [shopify_product(1)])
    body = put(client_for(keys_b.write.plaintext), [shopify_product(1, title="B's")]).json()
    assert ids(body, "created") == [1]
    assert Product.objects.get(tenant=tenant_a, external_id=1).name == "Linen Shirt 1"
    assert Product.objects.get(tenant=tenant_b, external_id=1).name == "B's"


def test_shared_barcodes_make_duplicate_clusters(platform_w, tenant_a, keys_a):
    copy = shopify_product(2)
    copy["variants"][0]["barcode"] = gtin13(100)  # same barcode as product 1's first variant
    copy["body_html"] = ""
    put(platform_w, [shopify_product(1), copy, shopify_product(3)])
    one, two, three = (Product.objects.get(tenant=tenant_a, external_id=i) for i in (1, 2, 3))
    assert one.cluster_id and one.cluster_id == two.cluster_id and three.cluster_id is None
    assert one.cluster.canonical_id == one.pk  # the more complete record
    rows = client_for(keys_a.read.plaintext).get("/api/v3/products").json()["products"]
    canon = {r["external_id"]: r["external_canonical_id"] for r in rows}
    assert canon == {1: None, 2: 1, 3: None}


def test_sync_query_count_does_not_grow_with_items(platform_w, tenant_a, django_assert_max_num_queries):
    with django_assert_max_num_queries(80) as small:
        put(platform_w, [shopify_product(i) for i in range(1, 6)])
    # 20 times the items: a fixed number of statements, plus the batches SQLite's parameter limit forces.
    with django_assert_max_num_queries(len(small.captured_queries) + 15):
        put(platform_w, [shopify_product(i) for i in range(10, 110)])
    assert Product.objects.filter(tenant=tenant_a).count() == 105


# ---- orders ---------------------------------------------------------------------------------------


def order(oid: int, lines, *, at="2025-05-01T23:30:00-02:00", cancelled=None) -> dict:
    return {
        "id": oid,
        "created_at": at,
        "cancelled_at": cancelled,
        "line_items": [
            {"product_id": p, "variant_id": v, "quantity": q, "price": price, "total_discount": disc}
            for p, v, q, price, disc in lines
        ],
    }


def post_orders(client, orders):
    return client.post("/api/platform/v1/orders", {"orders": orders}, format="json")


@pytest.fixture
def synced(platform_w):
    put(platform_w, [shopify_product(1), shopify_product(2)])


def sales(tenant):
    return sorted(
        DailySales.objects.filter(tenant=tenant).values_list(
            "variant__external_id", "date", "units", "revenue", "discount"
        )
    )


def test_orders_roll_up_into_daily_sales_per_variant_and_utc_day(platform_w, tenant_a, synced):
    response = post_orders(
        platform_w,
        [
            order(7001, [(1, 100, 2, "49.90", "5.00"), (2, 200, 1, "49.90", "0")]),  # 2025-05-02 01:30 UTC
            order(7002, [(1, 100, 1, "49.90", "0")], at="2025-05-02T08:00:00Z"),
            order(7003, [(1, 100, 5, "49.90", "0")], at="2025-05-02T09:00:00Z", cancelled="2025-05-02T10:00:00Z"),
        ],
    )
    assert response.status_code == 200
    assert response.json() == {
        "results": [{"index": i, "id": 7001 + i, "status": "created"} for i in range(3)],
        "counts": {"created": 3, "updated": 0, "duplicate": 0, "rejected": 0},
    }
    assert sales(tenant_a) == [
        (100, date(2025, 5, 2), 3, Decimal("144.70"), Decimal("5.00")),
        (200, date(2025, 5, 2), 1, Decimal("49.90"), Decimal("0.00")),
    ]


def test_reposting_orders_is_idempotent_and_cancellation_removes_sales(platform_w, tenant_a, synced):
    orders = [order(7001, [(1, 100, 2, "49.90", "0")])]
    post_orders(platform_w, orders)
    assert ids(post_orders(platform_w, orders).json(), "updated") == [7001]
    assert Order.objects.filter(tenant=tenant_a).count() == 1 and OrderLine.objects.filter(tenant=tenant_a).count() == 1
    assert sales(tenant_a) == [(100, date(2025, 5, 2), 2, Decimal("99.80"), Decimal("0.00"))]
    post_orders(platform_w, [order(7001, [(1, 100, 2, "49.90", "0")], cancelled="2025-05-03T00:00:00Z")])
    assert sales(tenant_a) == []


def test_order_moved_to_another_day_moves_its_sales(platform_w, tenant_a, synced):
    post_orders(platform_w, [order(7001, [(1, 100, 1, "10.00", "0")])])
    post_orders(platform_w, [order(7001, [(1, 100, 1, "10.00", "0")], at="2025-06-01T12:00:00Z")])
    assert sales(tenant_a) == [(100, date(2025, 6, 1), 1, Decimal("10.00"), Decimal("0.00"))]


def test_orders_before_their_products_are_linked_when_the_products_arrive(platform_w, tenant_a):
    post_orders(platform_w, [order(7001, [(1, 100, 2, "49.90", "0")])])
    line = OrderLine.objects.get(tenant=tenant_a)
    assert line.variant_id is None and line.product_external_id == 1
    assert sales(tenant_a) == []
    put(platform_w, [shopify_product(1)])
    line.refresh_from_db()
    assert line.variant.external_id == 100 and line.product.external_id == 1
    assert sales(tenant_a) == [(100, date(2025, 5, 2), 2, Decimal("99.80"), Decimal("0.00"))]


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"created_at": None}, "created_at"),
        ({"created_at": "31/12/2025"}, "created_at"),
        ({"line_items": [{"product_id": 1, "variant_id": 100, "quantity": 0, "price": "1"}]}, "line_items.0.quantity"),
        ({"line_items": [{"product_id": 1, "variant_id": 100, "quantity": 1, "price": "x"}]}, "line_items.0.price"),
        ({"line_items": [{"product_id": "x", "quantity": 1, "price": "1"}]}, "line_items.0.product_id"),
        (
            {"line_items": [{"product_id": 2, "variant_id": 100, "quantity": 1, "price": "1"}]},
            "line_items.0.variant_id",
        ),
    ],
)
def test_invalid_order_is_rejected_whole(platform_w, tenant_a, synced, broken, field):
    bad = {**order(7002, []), **broken}
    body = post_orders(platform_w, [order(7001, [(1, 100, 1, "10.00", "0")]), bad]).json()
    assert ids(body, "created") == [7001]
    [rejection] = rejections(body)
    assert rejection["index"] == 1 and field in rejection["errors"], body
    assert list(Order.objects.filter(tenant=tenant_a).values_list("external_id", flat=True)) == [7001]


def test_orders_need_write_permission_and_stay_in_their_tenant(keys_a, keys_b, tenant_a, tenant_b, synced):
    assert post_orders(client_for(keys_a.read.plaintext), [order(7001, [])]).status_code == 403
    body = post_orders(client_for(keys_b.write.plaintext), [order(7001, [(1, 100, 1, "10.00", "0")])]).json()
    assert ids(body, "created") == [7001]
    line = OrderLine.objects.get(tenant=tenant_b)
    assert line.variant_id is None and line.product_id is None  # A's product and variant are not B's
    assert not Order.objects.filter(tenant=tenant_a).exists()
    assert not DailySales.objects.exists()


def test_reposting_an_identical_order_rewrites_nothing(platform_w, tenant_a, synced):
    orders = [order(7001, [(1, 100, 2, "49.90", "0"), (2, 200, 1, "49.90", "1.00")])]
    post_orders(platform_w, orders)
    line_ids = set(OrderLine.objects.filter(tenant=tenant_a).values_list("pk", flat=True))
    sales_ids = set(DailySales.objects.filter(tenant=tenant_a).values_list("pk", flat=True))
    post_orders(platform_w, orders)
    assert set(OrderLine.objects.filter(tenant=tenant_a).values_list("pk", flat=True)) == line_ids
    assert set(DailySales.objects.filter(tenant=tenant_a).values_list("pk", flat=True)) == sales_ids
    # a changed line replaces the order's lines and rolls its day up again
    post_orders(platform_w, [order(7001, [(1, 100, 3, "49.90", "0"), (2, 200, 1, "49.90", "1.00")])])
    assert set(OrderLine.objects.filter(tenant=tenant_a).values_list("pk", flat=True)).isdisjoint(line_ids)
    assert sales(tenant_a)[0][:3] == (100, date(2025, 5, 2), 3)
