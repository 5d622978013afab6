"""Decoding the values of raw statements that read related rows as JSON aggregates (the one-statement detail
reads of catalog, merchandising and pricing selectors; PostgreSQL ``json_agg``, SQLite ``json_group_array``).

PostgreSQL's json comes back parsed by psycopg, SQLite's as text; SQLite keeps timestamps as naive UTC text.
One set of decoders for every app, so the dialect differences are handled in one place.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_datetime

_CENT = Decimal("0.01")


def rows(value: Any, *, decimals: bool = False) -> Any:
    """A JSON aggregate's value as Python; with ``decimals`` SQLite's numbers with a fraction come back as
    Decimal (money is never a float; PostgreSQL's, parsed already, go through ``decimal``/``money``)."""
    if not isinstance(value, str):
        return value
    return json.loads(value, parse_float=Decimal) if decimals else json.loads(value)


def decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def money(value: Any) -> Decimal | None:
    """A price to the cent (PostgreSQL's json numbers arrive as float: str() gives their shortest form)."""
    return None if value is None else Decimal(str(value)).quantize(_CENT)


def aware(value: str | datetime | None) -> datetime | None:
    """A timestamp from either dialect, timezone-aware (SQLite's text is naive UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = parse_datetime(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
