"""The per-item answer of every bulk write on the platform surface, declared once (docs/platform.md).

Products, orders, collections and competitor prices all answer::

    {"results": [{"index": 0, "id": 7001, "status": "created"},
                 {"index": 1, "id": 7002, "status": "rejected", "errors": {"title": ["This field is required."]}}],
     "counts": {"created": 1, "updated": 0, "duplicate": 0, "rejected": 1}}

one result per item sent, in request order. ``errors`` (rejected items only) has the form of a 400 body's
``details``: the messages per field. ``BulkResultSerializer`` is the schema every view names in its
``@extend_schema``; ``bulk_result`` writes the body from ``(index, id, status, errors)`` tuples. The body is
built by hand rather than through the serializer's field walk: a products sync answers 1000 items, and
``tests/apikeys/test_bulk_results.py`` holds the two to the same keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from operator import itemgetter
from typing import Any, Literal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apikeys.errors import to_api_error
from apikeys.schema import field_messages

Status = Literal["created", "updated", "duplicate", "rejected"]
STATUSES: tuple[Status, ...] = ("created", "updated", "duplicate", "rejected")
FieldErrors = dict[str, list[str]]
ItemResult = tuple[int, Any, Status, FieldErrors | None]  # (index, id, status, errors)

MAX_ECHOED_ID = 40
_INDEX, _STATUS = itemgetter(0), itemgetter(2)


def echoed_id(item: Any) -> int | str | None:
    """The ``id`` of a raw request item as it may be echoed back: a plain integer or string (cut to 40
    characters), else null (never arbitrary JSON from the request)."""
    value = item.get("id") if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return value[:MAX_ECHOED_ID] if isinstance(value, str) else value


def field_errors(detail: Any) -> FieldErrors:
    """A serializer's ``errors`` as a rejected item's ``errors``: the form (and flattening) of a 400's details."""
    return to_api_error(ValidationError(detail)).errors or {}


@extend_schema_field({"oneOf": [{"type": "integer", "format": "int64"}, {"type": "string"}], "nullable": True})
class ItemIdField(serializers.Field):
    """The item's id as sent (an integer, or a string when an invalid one was sent), or null."""

    def to_representation(self, value: Any) -> Any:
        return value


class ItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="the item's position in the request, from 0")
    id = ItemIdField(allow_null=True, help_text="the item's id as sent; null when it has none")
    status = serializers.ChoiceField(choices=list(STATUSES))
    errors = field_messages("rejected items only: the messages per field, as in a 400 body's details")

    class Meta:
        ref_name = "BulkItemResult"


class BulkCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()

    class Meta:
        ref_name = "BulkCounts"


class BulkResultSerializer(serializers.Serializer):
    results = ItemResultSerializer(many=True, help_text="one per item sent, in request order")
    counts = BulkCountsSerializer(help_text="the results per status; all four are always present")

    class Meta:
        ref_name = "BulkResult"


def bulk_result(items: Iterable[ItemResult]) -> dict[str, Any]:
    """The body of a bulk write from its items' ``(index, id, status, errors)``, in any order."""
    ordered = sorted(items, key=_INDEX)
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(Counter(map(_STATUS, ordered)))
    if len(counts) != len(STATUSES):
        raise ValueError(f"unknown status in {sorted(set(counts) - set(STATUSES))}")
    return {
        "results": [
            {"index": index, "id": item_id, "status": status}
            if status != "rejected"
            else {"index": index, "id": item_id, "status": status, "errors": errors or {}}
            for index, item_id, status, errors in ordered
        ],
        "counts": counts,
    }
