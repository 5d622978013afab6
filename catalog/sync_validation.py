"""Lean acceptance of Shopify products and orders for the platform sync, in front of the DRF serializers.

Why by hand: DRF's per-field machinery (run_validation, validators, error
wiring, nested and list serializers) cost ~1.3 ms per 3-variant product, as
much as all the sync's writes together (cProfile of 1000 products x 3
variants: 1.4 s of validation per call). These functions only *accept*: each
one checks the common, unambiguous shape of a value (an int id, a trimmed
string within its length, "49.90", an ISO timestamp) and returns exactly what
the serializer would have returned. Anything else - a wrong type, a string of
digits where an int is usual, a blank, a duplicate - raises ``Unsure`` and the
item goes through the serializer, which decides and words the error. So
accept/reject decisions and error bodies stay the serializers'
(tests/catalog/test_sync_validation.py checks lean == DRF on generated cases),
and the serializers stay the OpenAPI schema source.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from catalog.api.fields import MAX_EXTERNAL_ID


class Unsure(Exception):
    """The lean check cannot vouch for this item: the DRF serializer decides."""


_UNSURE = Unsure()
_BAD_CHARS = re.compile("[\\x00\\ud800-\\udfff]")  # DRF's null-character and surrogate validators
_MONEY = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?")  # max_digits=12, decimal_places=2, min_value=0
_CENT = Decimal("0.01")
_url = URLValidator()
# The usual image URL (http(s), lower-case ASCII host names, a path of URL-safe characters): a strict subset of
# what URLValidator accepts, matched in one regex. URLValidator (urlsplit, an IDN-aware regex, an IPv6 check)
# cost 65 us per product, a third of the lean check; anything else still goes through it.
_PLAIN_URL = re.compile(
    r"https?://((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?#]*)?",
    re.ASCII,
)
_datetime_field = serializers.DateTimeField(allow_null=True)
MAX_INT32 = 2**31 - 1


class Cache:
    """Per-call memo of parsed timestamps (a sync payload repeats the same few many times)."""

    def __init__(self) -> None:
        self.datetimes: dict[str, Any] = {}


def _ext_id(value: Any) -> int:
    if type(value) is int:
        if 1 <= value <= MAX_EXTERNAL_ID:
            return value
    elif type(value) is str and len(value) <= 1000 and value.isascii() and value.isdigit():
        number = int(value)
        if 1 <= number <= MAX_EXTERNAL_ID:
            return number
    raise _UNSURE


def _text(value: Any, max_length: int, allow_blank: bool) -> str:
    """StrictCharField: a str, trimmed (DRF trims by default), within max_length, no NUL or lone surrogate."""
    if type(value) is not str:
        raise _UNSURE
    value = value.strip()
    if not value:
        if allow_blank:
            return ""
        raise _UNSURE
    if len(value) > max_length or ((not value.isascii() or "\x00" in value) and _BAD_CHARS.search(value)):
        raise _UNSURE
    return value


def _optional_text(out: dict, item: dict, key: str, max_length: int = 255) -> None:
    if key in item:
        value = item[key]
        out[key] = None if value is None else _text(value, max_length, True)


def _money(value: Any) -> Decimal:
    if type(value) is str:
        value = value.strip()
    elif type(value) is int or type(value) is float:
        value = str(value)  # DRF: smart_str(data)
    else:
        raise _UNSURE
    if _MONEY.fullmatch(value) is None:
        raise _UNSURE
    return Decimal(value).quantize(_CENT)


def _int(value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _UNSURE
    return value


def _datetime(value: Any, cache: Cache):
    if type(value) is not str:
        raise _UNSURE
    try:
        return cache.datetimes[value]
    except KeyError:
        pass
    try:
        parsed = _datetime_field.run_validation(value)
    except serializers.ValidationError:
        raise _UNSURE from None
    if parsed is None:  # a field that allows no null decides for itself
        raise _UNSURE
    cache.datetimes[value] = parsed
    return parsed


def _optional_datetime(out: dict, item: dict, key: str, cache: Cache) -> None:
    if key in item:
        value = item[key]
        out[key] = None if value is None else _datetime(value, cache)


def _list(value: Any, max_length: int) -> list:
    if type(value) is not list or len(value) > max_length:
        raise _UNSURE
    return value


def _option(item: Any) -> dict:
    if type(item) is not dict:
        raise _UNSURE
    out: dict[str, Any] = {"name": _text(item.get("name"), 255, False)}
    if "position" in item:
        out["position"] = _int(item["position"], 1, 3)
    if "values" in item:
        out["values"] = [_text(v, 255, True) for v in _list(item["values"], 250)]
    if "id" in item:
        out["id"] = None if item["id"] is None else _ext_id(item["id"])
    return out


# ---- payload shapes (shared with the DRF serializer) -------------------------------------------------


def option_id_for(product_id: int, position: int) -> int:
    """The stable id of an option sent without one (storefront JSON): product id x 10 + position.

    Deterministic, so every sync of the product gives the option the same id and the Dynasort connector
    can address it; for a product id too large for that, the position alone (unique within the product).
    """
    if product_id <= (MAX_EXTERNAL_ID - 9) // 10:
        return product_id * 10 + position
    return position


def complete_options(product_id: int, options: list[dict], variants: list[dict]) -> list[dict]:
    """Fill in what older and storefront payloads leave out of ``options`` (validated dicts, changed in place).

    A missing ``position`` is the first free one in list order (Shopify lists options by position); missing
    ``values`` are the variants' distinct values of that option, in variant order (Shopify's own older
    fixtures send ``{"name": "Title"}`` only); a missing or null ``id`` is ``option_id_for``.
    """
    taken = {o["position"] for o in options if o.get("position") is not None}
    free = iter([p for p in (1, 2, 3) if p not in taken])
    for o in options:
        if o.get("position") is None:
            o["position"] = next(free, None)
            if o["position"] is None:
                raise ValueError("more options than positions")
        if o.get("values") is None:
            key = f"option{o['position']}"
            o["values"] = list(dict.fromkeys(v[key] for v in variants if v.get(key)))
        if o.get("id") is None:
            o["id"] = option_id_for(product_id, o["position"])
    return options


def _variant(item: Any, cache: Cache) -> dict:
    if type(item) is not dict:
        raise _UNSURE
    out = {"id": _ext_id(item.get("id")), "price": _money(item.get("price"))}
    for key in ("title", "option1", "option2", "option3", "sku"):
        _optional_text(out, item, key)
    _optional_text(out, item, "barcode", 64)
    for key in ("compare_at_price", "cost"):
        if key in item:
            out[key] = None if item[key] is None else _money(item[key])
    if "inventory_quantity" in item:  # absent is not 0: the sync then reads stock from what else is sent
        out["inventory_quantity"] = _int(item["inventory_quantity"], -MAX_INT32 - 1, MAX_INT32)
    policy = item.get("inventory_policy", "deny")
    if policy != "deny" and policy != "continue":
        raise _UNSURE
    out["inventory_policy"] = policy
    if "inventory_management" in item:
        value = item["inventory_management"]
        out["inventory_management"] = None if value is None else _text(value, 50, False)
    if item.get("inventory_item_id") is not None:
        out["inventory_item_id"] = _ext_id(item["inventory_item_id"])
    if "available" in item:  # storefront JSON: no stock figures, only whether the variant can be bought
        if type(item["available"]) is not bool:
            raise _UNSURE
        out["available"] = item["available"]
    _optional_datetime(out, item, "created_at", cache)
    return out


def product(item: Any, cache: Cache) -> dict:
    """What ShopifyProductSerializer(data=item).validated_data would be, or Unsure."""
    if type(item) is not dict:
        raise _UNSURE
    out: dict[str, Any] = {"id": _ext_id(item.get("id")), "title": _text(item.get("title"), 255, False)}
    _optional_text(out, item, "body_html", 200_000)
    for key in ("vendor", "product_type", "handle"):
        _optional_text(out, item, key)
    status = item.get("status", "active")
    if status != "active" and status != "draft" and status != "archived":
        raise _UNSURE
    out["status"] = status
    if "tags" in item:
        tags = item["tags"]
        if type(tags) is str:
            pass  # JSONField + validate_tags: a string is kept as sent (not trimmed)
        elif type(tags) is list and all(type(t) is str for t in tags):
            tags = ", ".join(tags)
        else:
            raise _UNSURE
        if (not tags.isascii() or "\x00" in tags) and _BAD_CHARS.search(tags):
            raise _UNSURE  # validate_tags refuses NUL and lone surrogates, as every text field
        out["tags"] = tags
    _optional_datetime(out, item, "created_at", cache)
    if "image" in item:
        image = item["image"]
        if image is None:
            out["image"] = None
        elif type(image) is dict:
            src = _text(image.get("src"), 2048, False)
            plain = _PLAIN_URL.fullmatch(src)
            if plain is None or len(plain[1]) > 253:
                try:
                    _url(src)
                except DjangoValidationError:
                    raise _UNSURE from None
            out["image"] = {"src": src}
        else:
            raise _UNSURE
    if "variants" in item:
        variants = [_variant(v, cache) for v in _list(item["variants"], 2000)]
        if len({v["id"] for v in variants}) != len(variants):
            raise _UNSURE
        out["variants"] = variants
    if "options" in item:
        options = [_option(o) for o in _list(item["options"], 3)]
        try:
            complete_options(out["id"], options, out.get("variants", []))
        except ValueError:
            raise _UNSURE from None
        if len({o["position"] for o in options}) != len(options):
            raise _UNSURE
        out["options"] = options
    return out


def _line_item(item: Any) -> dict:
    if type(item) is not dict:
        raise _UNSURE
    out = {
        "product_id": _ext_id(item.get("product_id")),
        "quantity": _int(item.get("quantity"), 1, 1_000_000),
        "price": _money(item.get("price")),
        # DRF returns a missing field's default as given, unvalidated: the int 0
        "total_discount": _money(item["total_discount"]) if "total_discount" in item else 0,
    }
    if "variant_id" in item:
        out["variant_id"] = None if item["variant_id"] is None else _ext_id(item["variant_id"])
    return out


def order(item: Any, cache: Cache) -> dict:
    """What ShopifyOrderSerializer(data=item).validated_data would be, or Unsure."""
    if type(item) is not dict:
        raise _UNSURE
    out: dict[str, Any] = {
        "id": _ext_id(item.get("id")),
        "created_at": _datetime(item.get("created_at"), cache),
        "line_items": [_line_item(li) for li in _list(item.get("line_items"), 500)],
    }
    _optional_datetime(out, item, "cancelled_at", cache)
    return out
