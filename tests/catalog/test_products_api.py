"""Sortillus v3 products: POST, PATCH, GET one and the list, as the vendor doc documents them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category, Product, ProductGtin, Recommendation
from tests import factories
from tests.conftest import assert_cross_tenant, assert_not_found

pytestmark = pytest.mark.django_db

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DETAIL_KEYS = {
    "sortillus_id",
    "external_id",
    "name",
    "description",
    "image",
    "canonical_id",
    "category_external_id",
    "sortillus_category_id",
    "active",
    "state",
    "updated_at",
    "created_at",
    "recommendations",
    "recommended_at",
    "gtin",
    "gtin_valid",
    "gtin_details",
}
# The doc's example GTINs have wrong GS1 check digits; these are the same numbers with valid ones.
GTIN_A, GTIN_B, GTIN_C = "1234567890128", "1234567890135", "9876543210982"


def has_error(body: dict, field: str) -> bool:
    return any(k == field or k.startswith((f"{field}.", f"{field}[")) for k in body["errors"])


def _product_reads(queries) -> int:
    """Statements reading catalog_product (the detail's raw statement, the ORM's reads and locks)."""
    return sum(("FROM catalog_product " in q["sql"]) or ('FROM "catalog_product"' in q["sql"]) for q in queries)


def _detail_reads(queries) -> int:
    """The detail's one statement (catalog.selectors product_get and friends)."""
    return sum("recommendations_json" in q["sql"] for q in queries)


def doc_product(**overrides) -> dict:
    product = {
        "id": 6,
        "name": "your product name",
        "suggested_category_name": "your suggested category name",
        "brand": "product brand",
        "description": "long product description",
        "image": "https://some.com/productid.image.jpg",
        "gtin": GTIN_A,
        "gtins": [GTIN_A, GTIN_B],
    }
    product.update(overrides)
    return product


def create(client, **overrides):
    return client.post("/api/v3/products", {"product": doc_product(**overrides)}, format="json")


def l4_category(tenant) -> Category:
    return Category.objects.create(
        tenant=tenant,
        external_id=2345,
        level=4,
        full_external_id="L4_2345",
        name="Electronics",
        en_name="Electronics",
        en_description="Electronic devices and components",
    )


# ---- POST ---------------------------------------------------------------------------------------


def test_create_returns_the_documented_body(sortillus, tenant_a):
    response = create(sortillus)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == DETAIL_KEYS
    product = Product.objects.get(tenant=tenant_a, external_id=6)
    assert body["sortillus_id"] == product.pk
    assert body["external_id"] == 6
    assert body["name"] == "your product name"
    assert body["description"] == "long product description"
    assert body["image"] == "https://some.com/productid.image.jpg"
    assert body["canonical_id"] is None
    assert body["category_external_id"] is None
    assert body["sortillus_category_id"] is None
    assert body["active"] is True
    assert body["state"] == "new"
    assert TIME.match(body["updated_at"]) and TIME.match(body["created_at"])
    assert body["recommendations"] == []
    assert body["recommended_at"] is None
    assert product.brand == "product brand"
    assert product.suggested_category_name == "your suggested category name"
    assert product.gtin == "0" + GTIN_A
    assert list(ProductGtin.objects.filter(product=product).values_list("gtin", "position")) == [
        ("0" + GTIN_A, 0),
        ("0" + GTIN_B, 1),
    ]


def test_create_first_gtin_of_gtins_is_primary_when_gtin_missing(sortillus, tenant_a):
    product = doc_product(gtins=["", GTIN_B, GTIN_A])
    del product["gtin"]
    assert sortillus.post("/api/v3/products", {"product": product}, format="json").status_code == 201
    assert Product.objects.get(tenant=tenant_a, external_id=6).gtin == "0" + GTIN_B


def test_create_with_the_docs_literal_gtins_stores_them_as_sent_and_flags_them_invalid(sortillus, tenant_a):
    # The vendor's own example codes have wrong GS1 check digits: kept as sent, never refused.
    response = create(sortillus, gtin="1234567890123", gtins=["1234567890123", "1234567890124"])
    assert response.status_code == 201
    body = response.json()
    assert body["gtin"] == "1234567890123"
    assert body["gtin_valid"] is False
    assert body["gtin_details"] == [
        {"code": "1234567890123", "valid": False, "normalised": None, "pack_of": None},
        {"code": "1234567890124", "valid": False, "normalised": None, "pack_of": None},
    ]
    product = Product.objects.get(tenant=tenant_a, external_id=6)
    assert product.gtin == "1234567890123"
    assert product.cluster_id is None


def test_create_duplicate_id_is_422(sortillus, tenant_a):
    assert create(sortillus).status_code == 201
    response = create(sortillus, name="other")
    assert response.status_code == 422
    assert response.json()["errors"] == {"id": ["has already been taken"]}
    assert Product.objects.get(tenant=tenant_a, external_id=6).name == "your product name"


def test_same_external_id_in_another_tenant_is_a_different_product(sortillus, sortillus_b, tenant_a, tenant_b):
    assert create(sortillus).status_code == 201
    assert create(sortillus_b).status_code == 201
    assert Product.objects.filter(external_id=6).count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id": None}, "id"),
        ({"id": -1}, "id"),
        ({"id": 0}, "id"),
        ({"id": 2**63}, "id"),
        ({"id": 10**30}, "id"),
        ({"id": "abc"}, "id"),
        ({"id": True}, "id"),
        ({"id": 6.5}, "id"),
        ({"name": ""}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": 123}, "name"),
        ({"name": ["a"]}, "name"),
        ({"description": 5}, "description"),
        ({"image": "not a url"}, "image"),
        ({"active": "true"}, "active"),
        ({"active": 1}, "active"),
        ({"gtin": "x" * 65}, "gtin"),
        ({"gtin": 1234567890128}, "gtin"),
        ({"gtins": "1234567890128"}, "gtins"),
        ({"gtins": [1234567890123]}, "gtins"),
        ({"gtins": [GTIN_A] * 51}, "gtins"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_bad_input_is_422_and_creates_nothing(sortillus, tenant_a, overrides, field):
    response = create(sortillus, **overrides)
    assert response.status_code == 422, response.content
    body = response.json()
    assert isinstance(body["error"], str) and has_error(body, field)
    assert not Product.objects.filter(tenant=tenant_a).exists()


def test_create_without_required_name_is_422(sortillus, tenant_a):
    response = sortillus.post("/api/v3/products", {"product": {"id": 7}}, format="json")
    assert response.status_code == 422 and "name" in response.json()["errors"]


@pytest.mark.parametrize("body", [{}, {"id": 6, "name": "x"}, {"product": "x"}, {"product": {}}, [1, 2], "text"])
def test_create_without_product_wrapper_is_400(sortillus, tenant_a, body):
    response = sortillus.post("/api/v3/products", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert not Product.objects.exists()


def test_create_malformed_json_is_400(sortillus):
    response = sortillus.generic("POST", "/api/v3/products", "{not json", content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()


@pytest.mark.parametrize(
    ("product", "reads", "detail_reads"),
    [
        # only the duplicate check: the answer is the row inserted (before: the detail read it again, 2 reads)
        ({"id": 6, "name": "plain", "description": "d", "active": False}, 1, 0),
        ({"id": 6, "name": "cleared", "gtin": "", "gtins": []}, 1, 0),  # no GTIN written
        # GTINs written: the clustering reads, then the detail once for the GTINs and the cluster they joined
        (doc_product(), 5, 1),
    ],
    ids=["row", "no-gtins", "gtins"],
)
def test_create_answers_what_it_wrote(sortillus, tenant_a, product, reads, detail_reads):
    with CaptureQueriesContext(connection) as queries:
        response = sortillus.post("/api/v3/products", {"product": product}, format="json")
    assert response.status_code == 201, response.content
    assert _product_reads(queries.captured_queries) == reads
    assert _detail_reads(queries.captured_queries) == detail_reads
    assert response.content == sortillus.get("/api/v3/products/6").content
    assert response.json()["state"] == "new" and response.json()["gtin_details"] == (
        []
        if detail_reads == 0
        else [
            {"code": GTIN_A, "valid": True, "normalised": "0" + GTIN_A, "pack_of": None},
            {"code": GTIN_B, "valid": True, "normalised": "0" + GTIN_B, "pack_of": None},
        ]
    )


def test_create_needs_a_write_key(reader, tenant_a):
    response = create(reader)
    assert response.status_code == 403 and set(response.json()) == {"error"}
    assert not Product.objects.exists()


def test_create_without_key_is_401(api):
    response = create(api(None))
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid access token"}


# ---- PATCH --------------------------------------------------------------------------------------


@pytest.fixture
def product6(sortillus, tenant_a) -> Product:
    assert create(sortillus).status_code == 201
    return Product.objects.get(tenant=tenant_a, external_id=6)


DOC_PATCH = {
    "name": "Updated product name",
    "description": "Updated product description",
    "active": True,
    "category_id": "L4_2345",
}


@pytest.mark.parametrize("wrapped", [True, False], ids=["wrapped", "root"])
def test_patch_documented_example(sortillus, tenant_a, product6, wrapped):
    category = l4_category(tenant_a)
    body = {"product": DOC_PATCH} if wrapped else DOC_PATCH
    response = sortillus.patch("/api/v3/products/6", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == DETAIL_KEYS
    assert data["sortillus_id"] == product6.pk
    assert data["external_id"] == 6
    assert data["name"] == "Updated product name"
    assert data["description"] == "Updated product description"
    assert data["image"] == "https://some.com/productid.image.jpg"
    assert data["canonical_id"] is None
    assert data["category_external_id"] == "L4_2345"
    assert data["sortillus_category_id"] == category.pk
    assert data["active"] is True
    assert data["state"] == "ready"
    assert data["recommendations"] == [] and data["recommended_at"] is None
    product6.refresh_from_db()
    assert product6.transitions.get().event == "categorize"


@pytest.mark.parametrize(
    ("body", "reads"),
    [
        ({"active": False}, 2),  # the detail and the lock; the answer is the row written
        # the changed text is embedded by a task after the commit (catalog/after_write.py), not in the request
        ({"category_id": "L4_2345"}, 2),
        ({"category_id": "L4_2345", "name": "renamed"}, 2),
        ({"gtins": [GTIN_C]}, 6),  # GTINs and clusters changed: the clustering reads, then the detail again
    ],
    ids=["row", "category", "text", "gtins"],
)
def test_patch_answers_what_it_wrote_reading_the_product_once(sortillus, tenant_a, product6, body, reads):
    l4_category(tenant_a)
    other = factories.product(tenant_a, external_id=7)
    Recommendation.objects.create(
        tenant=tenant_a, product=product6, recommended=other, position=0, explanation="x", reason_json={"a": 1}
    )
    with CaptureQueriesContext(connection) as queries:
        response = sortillus.patch("/api/v3/products/6", body, format="json")
    assert response.status_code == 200, response.content
    assert _product_reads(queries.captured_queries) == reads
    assert response.json() == sortillus.get("/api/v3/products/6").json()
    assert response.json()["recommendations"] == [{"product_id": 7, "explanation": "x", "reason_json": {"a": 1}}]


def test_patch_changes_only_given_fields(sortillus, product6):
    response = sortillus.patch("/api/v3/products/6", {"product": {"active": False}}, format="json")
    assert response.status_code == 200
    product6.refresh_from_db()
    assert product6.active is False
    assert product6.name == "your product name" and product6.description == "long product description"
    assert product6.image == "https://some.com/productid.image.jpg" and product6.gtin == "0" + GTIN_A


def test_patch_empty_image_clears_it(sortillus, product6):
    response = sortillus.patch("/api/v3/products/6", {"product": {"image": ""}}, format="json")
    assert response.status_code == 200 and response.json()["image"] == ""


def _gtins(product):
    return list(ProductGtin.objects.filter(product=product).order_by("position").values_list("gtin", flat=True))


def test_patch_gtin_wins_over_gtins(sortillus, product6):
    body = {"product": {"gtin": GTIN_C, "gtins": [GTIN_A, GTIN_C]}}
    assert sortillus.patch("/api/v3/products/6", body, format="json").status_code == 200
    product6.refresh_from_db()
    assert product6.gtin == "0" + GTIN_C
    assert _gtins(product6) == ["0" + GTIN_C, "0" + GTIN_A]


def test_patch_gtins_without_gtin_makes_the_first_non_empty_primary(sortillus, product6):
    body = {"product": {"gtins": ["", GTIN_C]}}
    assert sortillus.patch("/api/v3/products/6", body, format="json").status_code == 200
    product6.refresh_from_db()
    assert product6.gtin == "0" + GTIN_C and _gtins(product6) == ["0" + GTIN_C]


def test_patch_empty_gtin_and_gtins_clear_all(sortillus, product6):
    body = {"product": {"gtin": "", "gtins": []}}
    assert sortillus.patch("/api/v3/products/6", body, format="json").status_code == 200
    product6.refresh_from_db()
    assert product6.gtin == "" and _gtins(product6) == []


def test_patch_empty_gtin_alone_clears_the_primary(sortillus, product6):
    assert sortillus.patch("/api/v3/products/6", {"gtin": ""}, format="json").status_code == 200
    product6.refresh_from_db()
    assert product6.gtin == "" and _gtins(product6) == ["0" + GTIN_B]


def test_patch_category_falls_back_to_external_id(sortillus, tenant_a, product6):
    category = l4_category(tenant_a)
    response = sortillus.patch("/api/v3/products/6", {"category_id": "2345"}, format="json")
    assert response.status_code == 200 and response.json()["sortillus_category_id"] == category.pk
    response = sortillus.patch("/api/v3/products/6", {"category_id": 2345}, format="json")
    assert response.status_code == 200


def test_patch_full_external_id_is_tried_before_external_id(sortillus, tenant_a, product6):
    # "99" is one category's full external id and another's external id: the full id wins.
    by_full = Category.objects.create(
        tenant=tenant_a, external_id=50, level=1, full_external_id="99", name="a", en_name="a", en_description="a"
    )
    Category.objects.create(
        tenant=tenant_a, external_id=99, level=1, full_external_id="L1_99", name="b", en_name="b", en_description="b"
    )
    response = sortillus.patch("/api/v3/products/6", {"category_id": "99"}, format="json")
    assert response.json()["sortillus_category_id"] == by_full.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category_id": "L4_9999"}, "category_id"),
        ({"category_id": ""}, "category_id"),
        ({"category_id": True}, "category_id"),
        ({"external_canonical_product_id": "123"}, "external_canonical_product_id"),
        ({"external_canonical_product_id": "abc"}, "external_canonical_product_id"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": "n" * 10_000}, "name"),
        ({"active": "yes"}, "active"),
        ({"canonical": "true"}, "canonical"),
        ({"gtin": 1234567890123}, "gtin"),
        ({"gtins": [None]}, "gtins"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_patch_bad_input_is_422_and_changes_nothing(sortillus, tenant_a, product6, body, field):
    before = Product.objects.filter(pk=product6.pk).values().get()
    response = sortillus.patch("/api/v3/products/6", {"product": {"name": "changed", **body}}, format="json")
    assert response.status_code == 422, response.content
    assert has_error(response.json(), field)
    assert Product.objects.filter(pk=product6.pk).values().get() == before


def test_patch_other_tenants_category_is_not_found(sortillus, tenant_b, product6):
    l4_category(tenant_b)
    response = sortillus.patch("/api/v3/products/6", {"category_id": "L4_2345"}, format="json")
    assert response.status_code == 422 and "category_id" in response.json()["errors"]


@pytest.mark.parametrize("body", [{}, {"product": "x"}, {"product": {}}, [], "x"])
def test_patch_without_parameters_is_400(sortillus, product6, body):
    response = sortillus.patch("/api/v3/products/6", body, format="json")
    assert response.status_code == 400 and set(response.json()) == {"error"}


def test_patch_body_id_is_ignored(sortillus, tenant_a, product6):
    response = sortillus.patch("/api/v3/products/6", {"product": {"id": 999, "name": "n"}}, format="json")
    assert response.status_code == 200 and response.json()["external_id"] == 6
    assert not Product.objects.filter(external_id=999).exists()


@pytest.mark.parametrize(
    "path", ["/api/v3/products/7", "/api/v3/products/99999999999999999999999", "/api/v3/products/-1"]
)
def test_patch_unknown_product_is_404(sortillus, product6, path):
    assert_not_found("catalog", sortillus.patch(path, {"name": "x"}, format="json"))


def test_patch_needs_a_write_key(reader, product6):
    assert reader.patch("/api/v3/products/6", {"name": "x"}, format="json").status_code == 403


def test_patch_cross_tenant_is_not_found(sortillus_b, product6):
    assert_cross_tenant("catalog", sortillus_b, "patch", "/api/v3/products/6", {"name": "stolen"})
    product6.refresh_from_db()
    assert product6.name == "your product name"


# ---- GET one ----------------------------------------------------------------------------------


def test_get_returns_the_documented_body(reader, product6):
    response = reader.get("/api/v3/products/6")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert body["sortillus_id"] == product6.pk and body["state"] == "new" and body["recommendations"] == []


def test_get_lists_recommendations_by_external_id(reader, tenant_a, product6):
    other = factories.product(tenant_a, external_id=789)
    third = factories.product(tenant_a, external_id=456)
    product6.recommendations.create(
        tenant=tenant_a,
        recommended=other,
        position=0,
        explanation="Same model; different color.",
        reason_json={"source": "embedding", "score": 0.92},
    )
    product6.recommendations.create(
        tenant=tenant_a, recommended=third, position=1, explanation="Bundle frequently bought together."
    )
    body = reader.get("/api/v3/products/6").json()
    assert body["recommendations"] == [
        {
            "product_id": 789,
            "explanation": "Same model; different color.",
            "reason_json": {"source": "embedding", "score": 0.92},
        },
        {"product_id": 456, "explanation": "Bundle frequently bought together."},
    ]


@pytest.mark.parametrize("path", ["/api/v3/products/7", "/api/v3/products/9223372036854775808", "/api/v3/products/abc"])
def test_get_unknown_product_is_404(reader, product6, path):
    response = reader.get(path)
    assert_not_found("catalog", response)


def test_get_cross_tenant_is_not_found(keys_b, api, product6):
    assert_cross_tenant("catalog", api(keys_b.read.plaintext), "get", "/api/v3/products/6")


# ---- list -------------------------------------------------------------------------------------


@pytest.fixture
def listed(tenant_a):
    """Five products with distinct updated_at (ids ascending, updated_at ascending except a tie)."""
    base = datetime(2025, 6, 1, tzinfo=UTC)
    products = [factories.product(tenant_a, external_id=100 + i) for i in range(5)]
    times = [
        base,
        base + timedelta(days=1),
        base + timedelta(days=2),
        base + timedelta(days=2),
        base + timedelta(days=5),
    ]
    states = ["new", "ready", "error", "ready", "recommended_products"]
    for p, t, s in zip(products, times, states, strict=True):
        Product.objects.filter(pk=p.pk).update(updated_at=t, state=s)
    return products


def test_list_orders_by_updated_at_then_id_desc_with_totals(reader, listed):
    response = reader.get("/api/v3/products")
    assert response.status_code == 200
    body = response.json()
    assert [p["external_id"] for p in body["products"]] == [104, 103, 102, 101, 100]
    assert body["meta"] == {"current_page": 1, "total_pages": 1, "total_count": 5}
    assert set(body["products"][0]) == {
        "id",
        "external_id",
        "state",
        "updated_at",
        "created_at",
        "category_external_id",
        "external_canonical_id",
    }


def test_list_pages(reader, listed):
    body = reader.get("/api/v3/products?per_page=2&page=2").json()
    assert [p["external_id"] for p in body["products"]] == [102, 101]
    assert body["meta"] == {"current_page": 2, "total_pages": 3, "total_count": 5}
    assert reader.get("/api/v3/products?per_page=2&page=9").json()["products"] == []


@pytest.mark.parametrize(
    "query",
    ["aasm_states=ready,error", "aasm_states[]=ready&aasm_states[]=error", "aasm_states=ready&aasm_states=error"],
)
def test_list_filters_by_states_and_omits_totals(reader, listed, query):
    body = reader.get(f"/api/v3/products?{query}").json()
    assert [p["external_id"] for p in body["products"]] == [103, 102, 101]
    assert body["meta"] == {"current_page": 1}


def test_list_filters_by_updated_range(reader, listed):
    after, before = "2025-06-01T12:00:00Z", "2025-06-03T12:00:00Z"
    body = reader.get(f"/api/v3/products?updated_after={after}&updated_before={before}").json()
    assert [p["external_id"] for p in body["products"]] == [103, 102, 101]
    assert body["meta"] == {"current_page": 1}


@pytest.mark.parametrize(
    "query",
    [
        "aasm_states=ready,bogus",
        "aasm_states[]=nope",
        "per_page=0",
        "per_page=-1",
        "per_page=1000000000",
        "per_page=abc",
        "page=0",
        "page=-3",
        "page=99999999999999999999",
        "updated_before=yesterday",
        "updated_after=2025-13-45",
        "colour=red",
    ],
)
def test_list_bad_parameters_are_422(reader, listed, query):
    response = reader.get(f"/api/v3/products?{query}")
    assert response.status_code == 422, response.content
    body = response.json()
    assert isinstance(body["error"], str) and body["errors"]


def test_list_per_page_maximum_is_1000(reader, listed):
    assert reader.get("/api/v3/products?per_page=1000").status_code == 200
    assert reader.get("/api/v3/products?per_page=1001").status_code == 422


def test_list_shows_only_own_products(keys_b, api, listed, tenant_b):
    factories.product(tenant_b, external_id=555)
    body = api(keys_b.read.plaintext).get("/api/v3/products").json()
    assert [p["external_id"] for p in body["products"]] == [555]


def test_list_query_count_does_not_grow_with_page_size(reader, tenant_a, django_assert_max_num_queries):
    category = l4_category(tenant_a)
    for i in range(30):
        factories.product(tenant_a, external_id=500 + i, category=category if i % 2 else None)
    with django_assert_max_num_queries(6) as small:
        assert len(reader.get("/api/v3/products?per_page=2").json()["products"]) == 2
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(reader.get("/api/v3/products?per_page=1000").json()["products"]) == 30
