"""Sortillus fields: timestamps, shop ids and GTINs (the strict JSON-type fields are apikeys.fields)."""

from __future__ import annotations

from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikeys.fields import StrictCharField
from catalog import gtin as gtin_engine

MAX_EXTERNAL_ID = 2**63 - 1


def sortillus_time(value) -> str | None:
    """Sortillus timestamps: UTC, whole seconds, "Z" ("2025-06-12T18:08:59Z")."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@extend_schema_field({"type": "string", "format": "date-time", "nullable": True, "example": "2025-06-12T18:08:59Z"})
class TimestampField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return sortillus_time(value)


class ExternalIdField(serializers.IntegerField):
    """A shop's id: a positive 64-bit integer, given as a JSON number or a string of digits."""

    default_error_messages = {"invalid": "Must be a positive integer."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_EXTERNAL_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and not (data.isascii() and data.strip().isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class GtinField(StrictCharField):
    """A GTIN as the shop has it: any string up to 64 characters, returned as a ``gtin.Code`` (``""`` stays ``""``).

    Sortillus documents GTINs as plain strings and its own examples carry wrong check digits, so a code
    that is no valid GS1 GTIN is kept as sent (flagged not valid) instead of refused.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        value = super().run_validation(data)  # type and length checks first
        if value is None or value.strip() == "":
            return "" if value is not None else None
        return gtin_engine.read(value)

    def to_representation(self, value):
        return getattr(value, "text", value)
