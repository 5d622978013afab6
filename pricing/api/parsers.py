"""JSON parsing that keeps money exact: numbers with a fraction become Decimal, never float."""

from __future__ import annotations

from decimal import Decimal

from apikeys.parsers import StrictJSONParser


class DecimalJSONParser(StrictJSONParser):
    """The platform's strict JSON (no duplicate keys, no NaN/Infinity, bounded nesting: a deeply nested
    body used to reach the recursion limit here and answer 500) with money read as Decimal."""

    parse_float = Decimal
