"""The platform sync's input beyond its serializers: option completion, and the plain shape of a shop's id.

The sync input is declared once, in catalog/api/platform_serializers.py; apikeys/input.py compiles those
serializers into the fast acceptor validate_each uses. What lives here: ``complete_options`` (the product
serializer's validate() fills in what storefront and older payloads leave out of options) and the compiled
checker of ``ExternalIdField`` (a field class with its own parsing, so the compiler learns its plain shape
from its owner: an int within its bounds, or a string of ASCII digits).
"""

from __future__ import annotations

import math
from typing import Any

from apikeys import input as compiled_input
from catalog.api.fields import MAX_EXTERNAL_ID, ExternalIdField


@compiled_input.register(ExternalIdField)
def _external_id(field: ExternalIdField, run: compiled_input.Check) -> compiled_input.Checker | None:
    bounds = compiled_input.value_bounds(field)
    if bounds is None:
        return None
    low, high = bounds
    ints = compiled_input.integer_checker(field, run, low, high)  # a JSON number, the usual case
    low = -math.inf if low is None else low
    high = math.inf if high is None else high

    def check(value: Any, cache: compiled_input.Cache) -> Any:
        if type(value) is str and len(value) <= 1000 and value.isascii() and value.isdigit():
            number = int(value)  # IntegerField: int(value), a string of digits having no decimal point
            if low <= number <= high:
                return number
        return ints.check(value, cache)  # padded, a bool, out of bounds ...: the field decides

    return compiled_input.Checker(check, ints.inline, **ints.constants)


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
