"""JSON parsing that keeps money exact: numbers with a fraction become Decimal, never float."""

from __future__ import annotations

from decimal import Decimal

from apikeys.parsers import StrictJSONParser


class DecimalJSONParser(StrictJSONParser):
    """The platform's strict JSON parser (duplicate keys, NaN, depth refused), with Decimal fractions."""

    parse_float = Decimal
