"""Sortillus v3 shop categories: the list (filters, ordering, attributes) and the upsert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import AttributeOption, Category, CategoryAttribute
from tests.catalog.conftest import make_category

pytestmark = pytest.mark.django_db

DOC_CATEGORY = {
    "external_id": 456,
    "name": "Electronics",
    "en_name": "Electronics",
    "en_description": "Electronic devices and components",
    "description": "Long category description",
    "external_parent_id": 20,
}


def upsert(client, **overrides):
    return client.post("/api/v3/shop/categories", {"category": {**DOC_CATEGORY, **overrides}}, format="json")


def test_upsert_creates_with_the_documented_body(sortillus, tenant_a):
    parent = make_category(tenant_a, 20, "Home & Tech")
    response = upsert(sortillus)
    assert response.status_code == 201, response.content
    body = response.json()
    category = Category.objects.get(tenant=tenant_a, external_id=456)
    assert body == {
        "id": category.pk,
        "external_id": 456,
        "name": "Electronics",
        "description": "Long category description",
        "en_name": "Electronics",
        "en_description": "Electronic devices and components",
        "parent_id": 20,
        "full_external_id": "L2_456",
        "level": 2,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert category.parent == parent


def test_upsert_updates_by_external_id_with_200(sortillus, tenant_a):
    make_category(tenant_a, 20, "Root")
    assert upsert(sortillus).status_code == 201
    response = upsert(sortillus, name="Gadgets", external_parent_id=None)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Gadgets" and body["level"] == 1 and body["full_external_id"] == "L1_456"
    assert body["parent_id"] is None
    assert Category.objects.filter(tenant=tenant_a, external_id=456).count() == 1


def test_reposting_an_unchanged_category_writes_nothing_and_queues_nothing(
    sortillus, tenant_a, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    make_category(tenant_a, 20, "Home & Tech")
    assert upsert(sortillus).status_code == 201
    before = Category.objects.get(tenant=tenant_a, external_id=456).updated_at
    with django_capture_on_commit_callbacks() as callbacks, django_assert_max_num_queries(12) as queries:
        assert upsert(sortillus).status_code == 200
    assert not any(q["sql"].startswith(("UPDATE", "INSERT")) for q in queries.captured_queries)
    assert callbacks == []  # no index invalidation, no suggestion refresh
    assert Category.objects.get(tenant=tenant_a, external_id=456).updated_at == before
    with django_capture_on_commit_callbacks() as callbacks:
        assert upsert(sortillus, en_description="Devices").status_code == 200  # a change still counts
    assert len(callbacks) == 2


def test_level_change_moves_descendants(sortillus, tenant_a):
    for payload in (
        {"external_id": 1, "external_parent_id": None},
        {"external_id": 2, "external_parent_id": 1},
        {"external_id": 3, "external_parent_id": 2},
        {"external_id": 9, "external_parent_id": None},
    ):
        assert upsert(sortillus, **payload).status_code in (200, 201)
    assert upsert(sortillus, external_id=1, external_parent_id=9).status_code == 200
    full = dict(Category.objects.filter(tenant=tenant_a).values_list("external_id", "full_external_id"))
    assert full == {1: "L2_1", 2: "L3_2", 3: "L4_3", 9: "L1_9"}


@pytest.mark.parametrize("parent", [3, 456])
def test_parent_cycle_is_refused(sortillus, tenant_a, parent):
    upsert(sortillus, external_id=456, external_parent_id=None)
    upsert(sortillus, external_id=2, external_parent_id=456)
    upsert(sortillus, external_id=3, external_parent_id=2)
    response = upsert(sortillus, external_id=456, external_parent_id=parent)
    assert response.status_code == 422 and "external_parent_id" in response.json()["errors"]
    assert Category.objects.get(tenant=tenant_a, external_id=456).parent_id is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"external_id": None}, "external_id"),
        ({"external_id": -5}, "external_id"),
        ({"external_id": "x"}, "external_id"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"en_name": None}, "en_name"),
        ({"en_description": ""}, "en_description"),
        ({"external_parent_id": 777}, "external_parent_id"),
        ({"external_parent_id": "abc"}, "external_parent_id"),
        ({"name": "n" * 10_000}, "name"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_upsert_bad_input_is_422_and_writes_nothing(sortillus, tenant_a, overrides, field):
    response = upsert(sortillus, **overrides)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Category.objects.filter(tenant=tenant_a).exists()


def test_upsert_missing_required_fields_is_422(sortillus, tenant_a):
    response = sortillus.post("/api/v3/shop/categories", {"category": {"external_id": 5}}, format="json")
    assert response.status_code == 422
    assert {"name", "en_name", "en_description"} <= set(response.json()["errors"])


@pytest.mark.parametrize("body", [{}, {"external_id": 5}, {"category": []}, "x"])
def test_upsert_without_wrapper_is_400(sortillus, body):
    assert sortillus.post("/api/v3/shop/categories", body, format="json").status_code == 400


def test_upsert_parent_of_another_tenant_is_unknown(sortillus, tenant_b):
    make_category(tenant_b, 20, "B's root")
    response = upsert(sortillus)
    assert response.status_code == 422 and "external_parent_id" in response.json()["errors"]


def test_upsert_same_external_id_in_another_tenant_creates_its_own(sortillus, sortillus_b, tenant_a, tenant_b):
    make_category(tenant_a, 456, "A's")
    response = upsert(sortillus_b, external_parent_id=None)
    assert response.status_code == 201
    assert Category.objects.get(tenant=tenant_a, external_id=456).name == "A's"


def test_upsert_needs_write_key(reader):
    assert upsert(reader, external_parent_id=None).status_code == 403


# ---- list ---------------------------------------------------------------------------------------


@pytest.fixture
def taxonomy(tenant_a):
    now = timezone.now()
    root = make_category(tenant_a, 20, "Electronics")
    phones = make_category(tenant_a, 21, "Phones", parent=root)
    tvs = make_category(tenant_a, 22, "Televisions", parent=root)
    garden = make_category(tenant_a, 30, "Garden")
    color = CategoryAttribute.objects.create(
        tenant=tenant_a, category=phones, external_id=100, name="Color", description="Product color", created_at=now
    )
    AttributeOption.objects.create(
        tenant=tenant_a, attribute=color, external_id=101, name="Red", measurement="free_text"
    )
    AttributeOption.objects.create(
        tenant=tenant_a, attribute=color, external_id=102, name="Blue", measurement="free_text"
    )
    CategoryAttribute.objects.create(
        tenant=tenant_a,
        category=tvs,
        external_id=200,
        name="Size",
        measurement="cm",
        description="Screen size",
        created_at=now - timedelta(days=3),
    )
    Category.objects.filter(pk=root.pk).update(updated_at=now - timedelta(days=1))
    return {"root": root, "phones": phones, "tvs": tvs, "garden": garden}


def test_list_orders_by_newest_attribute_then_updated_at(reader, taxonomy):
    body = reader.get("/api/v3/shop/categories").json()
    assert [c["external_id"] for c in body["categories"]] == [21, 22, 30, 20]
    assert body["meta"] == {"current_page": 1, "total_pages": 1, "total_count": 4}


def test_list_item_has_the_documented_fields(reader, taxonomy):
    phones = reader.get("/api/v3/shop/categories").json()["categories"][0]
    color = CategoryAttribute.objects.get(external_id=100)
    red, blue = AttributeOption.objects.filter(attribute=color).order_by("external_id")
    assert phones == {
        "id": taxonomy["phones"].pk,
        "external_id": 21,
        "full_external_id": "L2_21",
        "level": 2,
        "name": "Phones",
        "en_name": "Phones",
        "en_description": "Phones products",
        "updated_at": phones["updated_at"],
        "created_at": phones["created_at"],
        "last_attribute_created_at": color.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "attributes": [
            {
                "id": color.pk,
                "name": "Color",
                "external_id": 100,
                "measurement": None,
                "description": "Product color",
                "options": [
                    {"id": red.pk, "name": "Red", "external_id": 101, "measurement": "free_text"},
                    {"id": blue.pk, "name": "Blue", "external_id": 102, "measurement": "free_text"},
                ],
            }
        ],
    }
    garden = next(c for c in reader.get("/api/v3/shop/categories").json()["categories"] if c["external_id"] == 30)
    assert garden["attributes"] == [] and garden["last_attribute_created_at"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("level=1", [30, 20]),
        ("parent_external_id=20", [21, 22]),
        ("search=tele", [22]),
        ("search=ELECTRO", [20]),
        ("with_attributes=true", [21, 22]),
        ("with_attributes=1", [21, 22]),
        ("with_attributes=yes", [21, 22]),
        ("with_attributes=false", [21, 22, 30, 20]),
        ("page=1&level=2&with_attributes=true", [21, 22]),
        ("page=2", []),
        ("per_page=1&page=2", [22]),
    ],
)
def test_list_filters(reader, taxonomy, query, expected):
    response = reader.get(f"/api/v3/shop/categories?{query}")
    assert response.status_code == 200
    assert [c["external_id"] for c in response.json()["categories"]] == expected


@pytest.mark.parametrize(
    "query",
    ["level=abc", "level=0", "with_attributes=maybe", "page=0", "per_page=0", "per_page=1000000000", "sort=name"],
)
def test_list_bad_parameters_are_422(reader, taxonomy, query):
    response = reader.get(f"/api/v3/shop/categories?{query}")
    assert response.status_code == 422 and response.json()["errors"]


def test_list_shows_only_own_categories(keys_b, api, taxonomy, tenant_b):
    make_category(tenant_b, 77, "B only")
    body = api(keys_b.read.plaintext).get("/api/v3/shop/categories").json()
    assert [c["external_id"] for c in body["categories"]] == [77]
    assert reader_filtered(api(keys_b.read.plaintext), "parent_external_id=20") == []


def reader_filtered(client, query):
    return [c["external_id"] for c in client.get(f"/api/v3/shop/categories?{query}").json()["categories"]]


def test_list_query_count_does_not_grow_with_page_size(reader, tenant_a, django_assert_max_num_queries):
    for i in range(20):
        category = make_category(tenant_a, 1000 + i, f"Cat {i}")
        attribute = CategoryAttribute.objects.create(tenant=tenant_a, category=category, external_id=1, name="Color")
        AttributeOption.objects.create(tenant=tenant_a, attribute=attribute, external_id=1, name="Red")
    with django_assert_max_num_queries(8) as small:
        assert len(reader.get("/api/v3/shop/categories?per_page=2").json()["categories"]) == 2
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(reader.get("/api/v3/shop/categories?per_page=100").json()["categories"]) == 20
