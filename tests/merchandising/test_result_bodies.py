"""Each action's body is its declaration in merchandising.api.results: the keys it declares, in that order
(apikeys.output renders the declared fields). sort_collection's three kinds of answer (queued, a preview, an
applied plan) are SortQueuedOut without the fields a kind does not have; the queued one is the vendor's."""

from __future__ import annotations

import pytest

from merchandising.actions import ACTIONS
from merchandising.api.results import RESULTS, SortQueuedOut
from merchandising.models import Collection
from tests.merchandising.conftest import call, ok
from tests.merchandising.test_actions import doc_body

pytestmark = pytest.mark.django_db

CID = 123456789


def _declared(serializer) -> list[str]:
    return list(serializer._declared_fields)


@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "sort_collection"])
def test_every_body_has_exactly_its_declared_keys_in_order(dynasort, shop, action):
    Collection.objects.filter(pk=shop.collection.pk).update(recipe=shop.recipe, enabled=True, revert_sorting="manual")
    if action == "sort_product":
        ok(call(dynasort, "enable_product", **doc_body("enable_product", 0)))
    data = ok(call(dynasort, action, **doc_body(action, shop.recipe.pk)))
    serializer, many = RESULTS[action]
    body = data[0] if many else data
    assert list(body) == _declared(serializer)
    for key, field in serializer._declared_fields.items():  # nested objects and lists of them too
        child = getattr(field, "child", field)
        if hasattr(child, "_declared_fields") and body[key]:
            assert list(body[key][0] if isinstance(body[key], list) else body[key]) == _declared(type(child)), key


def test_sort_collection_answers_are_the_declaration_without_what_their_kind_lacks(dynasort, shop):
    Collection.objects.filter(pk=shop.collection.pk).update(recipe=shop.recipe, enabled=True)
    preview = ok(call(dynasort, "sort_collection", collection_id=CID, dry_run=True))
    applied = ok(call(dynasort, "sort_collection", collection_id=CID, plan_id=preview["plan_id"]))
    queued = ok(call(dynasort, "sort_collection", collection_id=CID))

    assert list(queued) == ["collection_id", "status", "recipe", "queued_at"]  # the vendor's answer
    assert list(applied) == [k for k in _declared(SortQueuedOut) if k not in ("enabled", "products")]
    assert list(preview) == [k for k in _declared(SortQueuedOut) if k not in ("queued_at", "sorted_at")]
    assert (queued["status"], applied["status"], preview["status"]) == ("queued", "applied", "preview")
    assert applied["queued_at"] is None and queued["queued_at"].endswith("Z")
    assert list(queued["recipe"]) == list(applied["recipe"]) == ["id", "name"]
    assert list(preview["recipe"]) == ["id", "name", "days", "weights"]
    assert list(preview["products"][0]) == [
        "product_id",
        "title",
        "position",
        "current_position",
        "score",
        "score_details",
        "boost",
        "sold_out",
    ]
