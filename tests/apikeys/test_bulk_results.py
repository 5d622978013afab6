"""The one per-item answer of the platform surface's bulk writes (apikeys/api/results.py): the body the builder
writes has the keys its serializer declares, and every bulk write names that serializer in its schema."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from apikeys.api.results import BulkResultSerializer, ItemResultSerializer, bulk_result, echoed_id
from tests import factories
from tests.contracts.test_openapi import _json_schema

COUNTS = ["created", "updated", "duplicate", "rejected"]


def test_results_come_in_request_order_with_counts_of_all_four_statuses():
    body = bulk_result([(2, 9, "rejected", {"title": ["This field is required."]}), (0, 7, "created", None)])
    assert body == {
        "results": [
            {"index": 0, "id": 7, "status": "created"},
            {"index": 2, "id": 9, "status": "rejected", "errors": {"title": ["This field is required."]}},
        ],
        "counts": {"created": 1, "updated": 0, "duplicate": 0, "rejected": 1},
    }


def test_an_empty_answer_still_counts_every_status():
    assert bulk_result([]) == {"results": [], "counts": dict.fromkeys(COUNTS, 0)}


def test_an_unknown_status_is_a_programming_error():
    with pytest.raises(ValueError, match="error"):
        bulk_result([(0, 1, "error", None)])


def test_the_body_has_exactly_the_declared_keys():
    body = bulk_result([(0, 1, "created", None), (1, None, "duplicate", None), (2, "x", "rejected", {"id": ["bad"]})])
    assert list(body) == list(BulkResultSerializer().fields)
    assert list(body["counts"]) == list(BulkResultSerializer().fields["counts"].fields) == COUNTS
    declared = list(ItemResultSerializer().fields)
    assert [list(r) for r in body["results"]] == [declared[:-1], declared[:-1], declared]
    assert ItemResultSerializer().fields["status"].choices.keys() == set(COUNTS)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"id": 7}, 7),
        ({"id": "x" * 50}, "x" * 40),
        ({"id": True}, None),
        ({"id": [1]}, None),
        ({"id": {"a": 1}}, None),
        ({}, None),
        ("not an object", None),
    ],
)
def test_only_plain_ids_are_echoed(item, expected):
    assert echoed_id(item) == expected


BULK_WRITES = [
    ("/api/platform/v1/products", "put"),
    ("/api/platform/v1/orders", "post"),
    ("/api/platform/v1/collections", "put"),
    ("/api/platform/v1/competitor-prices", "post"),
]


def test_every_platform_bulk_write_declares_the_one_answer():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, method in BULK_WRITES:
        answer = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/BulkResult"}, (path, answer)
    item = schema["components"]["schemas"]["BulkItemResult"]
    assert sorted(item["required"]) == ["id", "index", "status"] and "errors" in item["properties"]


GOOD_AND_BAD = {
    "/api/platform/v1/products": {"products": [{"id": 12, "title": "ok"}, {"id": "x", "title": "bad id"}]},
    "/api/platform/v1/orders": {
        "orders": [
            {
                "id": 21,
                "created_at": "2026-11-01T10:00:00Z",
                "line_items": [{"product_id": 11, "quantity": 1, "price": "1"}],
            },
            {"id": 22, "created_at": "yesterday", "line_items": []},
        ]
    },
    "/api/platform/v1/collections": {"collections": [{"id": 31, "title": "ok", "product_ids": [11]}, {"id": 32}]},
    "/api/platform/v1/competitor-prices": {
        "observations": [
            {"product_id": 11, "competitor": "X", "price": "1.00", "observed_at": "2026-11-01T10:00:00Z"},
            {"product_id": 11, "competitor": "X", "price": "-1", "observed_at": "2026-11-01T10:00:00Z"},
        ]
    },
}


@pytest.mark.django_db
def test_every_platform_bulk_write_answers_a_body_valid_against_the_schema(platform, tenant_a):
    import jsonschema

    factories.product(tenant_a, external_id=11)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    document = _json_schema({"$ref": "#/components/schemas/BulkResult", "components": schema["components"]})
    for path, method in BULK_WRITES:
        response = getattr(platform, method)(path, GOOD_AND_BAD[path], format="json")
        assert response.status_code == 200, (path, response.content)
        body = response.json()
        jsonschema.validate(body, document)
        assert [(r["index"], r["status"]) for r in body["results"]] == [(0, "created"), (1, "rejected")], path
        assert body["counts"] == {"created": 1, "updated": 0, "duplicate": 0, "rejected": 1}, path
