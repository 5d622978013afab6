"""Option value sorting (ALGORITHMS.md "Merchandising: option value sorting"): pure Python, no Django.

Per option value the variants having that value are aggregated: sums for sales,
revenue and inventory; the minimum for prices, compare-at prices and costs; a
revenue-weighted average (plain average without revenue) for margins and discounts;
the first number in the value for ``numeric``; the oldest variant's created_at for
``variant_ages``; any-in-stock for ``variants_in_stock``.

Order: sold-out values first or last (``sold_out`` top/bottom; ``ignore`` leaves them
mixed in); within a group, values with a sort key by the key in ``direction``, ties in
their current order; values without a key (no number, not in the pattern or the size
table, no cost...) after the known ones in their current order.

Direction: ``desc`` puts the largest key first. For the ordering types (alphabetical,
numeric, common_sizes) the natural order (A to Z, small to large) is ``asc``, and it is
their default when no direction is given; ``comma_separated`` always follows the pattern.
``common_sizes`` reads the named size system, or detects it from the values (sizes.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from merchandising import sizes

METRIC_TYPES = frozenset(
    {
        "sales",
        "revenues",
        "prices",
        "compare_at_prices",
        "costs",
        "inventories",
        "margins",
        "discount_amounts",
        "discount_percentages",
        "variant_ages",
        "variants_in_stock",
    }
)
ORDERING_TYPES = frozenset({"alphabetical", "numeric", "common_sizes", "comma_separated"})
SORT_TYPES = frozenset({"off"}) | METRIC_TYPES | ORDERING_TYPES


@dataclass(frozen=True)
class VariantFacts:
    """One variant: its option values (option1..3) and what the sort types read."""

    options: tuple[str, ...]
    price: float
    compare_at_price: float | None
    cost: float | None
    inventory: int
    sellable: bool
    created_at: datetime
    units: float = 0.0
    revenue: float = 0.0


@dataclass(frozen=True)
class Rule:
    sort_type: str
    sold_out: str = "bottom"
    direction: str | None = None
    csv_pattern: str = ""
    common_size: str = ""


def default_direction(sort_type: str) -> str:
    return "asc" if sort_type in ORDERING_TYPES else "desc"


def _weighted(pairs: list[tuple[float, float]]) -> float | None:
    """Revenue-weighted average of (value, revenue); a plain average when nothing sold."""
    if not pairs:
        return None
    total = sum(r for _, r in pairs)
    if total > 0:
        return sum(v * r for v, r in pairs) / total
    return sum(v for v, _ in pairs) / len(pairs)


_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def first_number(text: str) -> float | None:
    match = _NUMBER.search(text)
    return float(match.group().replace(",", ".")) if match else None


def _metric_key(sort_type: str, variants: list[VariantFacts]) -> float | None:
    if not variants:
        return None
    if sort_type == "sales":
        return sum(v.units for v in variants)
    if sort_type == "revenues":
        return sum(v.revenue for v in variants)
    if sort_type == "inventories":
        return float(sum(max(v.inventory, 0) for v in variants))
    if sort_type == "prices":
        return min(v.price for v in variants)
    if sort_type == "compare_at_prices":
        known = [v.compare_at_price for v in variants if v.compare_at_price is not None]
        return min(known) if known else None
    if sort_type == "costs":
        known = [v.cost for v in variants if v.cost is not None]
        return min(known) if known else None
    if sort_type == "margins":
        return _weighted(
            [((v.price - v.cost) / v.price, v.revenue) for v in variants if v.cost is not None and v.price]
        )
    if sort_type == "discount_amounts":
        return _weighted([(max((v.compare_at_price or v.price) - v.price, 0.0), v.revenue) for v in variants])
    if sort_type == "discount_percentages":
        return _weighted(
            [
                (max(v.compare_at_price - v.price, 0.0) / v.compare_at_price if v.compare_at_price else 0.0, v.revenue)
                for v in variants
            ]
        )
    if sort_type == "variant_ages":
        # "How recently the variant was added": the value's oldest variant; desc = newest first.
        return min(v.created_at for v in variants).timestamp()
    if sort_type == "variants_in_stock":
        return 1.0 if any(v.sellable for v in variants) else 0.0
    raise ValueError(sort_type)


# ---- common sizes -------------------------------------------------------------------------
# The size readers and the detection of the size system live in merchandising/sizes.py.

SIZE_SYSTEMS = tuple(sizes.SYSTEMS)


def parse_pattern(pattern: str) -> list[str]:
    return [part.strip().casefold() for part in pattern.split(",") if part.strip()]


# ---- the sort -----------------------------------------------------------------------------


def value_keys(rule: Rule, values: Sequence[str], option_index: int, variants: Sequence[VariantFacts]) -> dict:
    """Sort key per value (None when unknown) under ``rule``."""
    by_value: dict[str, list[VariantFacts]] = {v: [] for v in values}
    for variant in variants:
        if option_index < len(variant.options) and variant.options[option_index] in by_value:
            by_value[variant.options[option_index]].append(variant)
    t = rule.sort_type
    if t in METRIC_TYPES:
        return {v: _metric_key(t, by_value[v]) for v in values}
    if t == "alphabetical":
        return {v: v.casefold() for v in values}
    if t == "numeric":
        return {v: first_number(v) for v in values}
    if t == "comma_separated":
        order = {}
        for i, name in enumerate(parse_pattern(rule.csv_pattern)):
            order.setdefault(name, i)
        return {v: order.get(v.strip().casefold()) for v in values}
    if t == "common_sizes":
        return sizes.size_keys(values, rule.common_size)
    raise ValueError(f"unknown sort type {t!r}")


def sold_out_values(values: Sequence[str], option_index: int, variants: Sequence[VariantFacts]) -> set[str]:
    """Values none of whose variants can be sold (values without variants count as sold out)."""
    sellable = {v.options[option_index] for v in variants if option_index < len(v.options) and v.sellable}
    return {value for value in values if value not in sellable}


def sort_values(rule: Rule, values: Sequence[str], option_index: int, variants: Sequence[VariantFacts]) -> list[str]:
    """The new order of an option's ``values`` (given in their current order)."""
    values = list(dict.fromkeys(values))
    if rule.sort_type == "off":
        return values
    keys = value_keys(rule, values, option_index, variants)
    direction = rule.direction or default_direction(rule.sort_type)
    reverse = direction == "desc" and rule.sort_type != "comma_separated"

    def arrange(group: list[str]) -> list[str]:
        known = [v for v in group if keys[v] is not None]
        unknown = [v for v in group if keys[v] is None]
        # sorted() is stable and reverse=True keeps ties in their original order too.
        return sorted(known, key=lambda v: keys[v], reverse=reverse) + unknown

    if rule.sold_out == "ignore":
        return arrange(values)
    sold_out = sold_out_values(values, option_index, variants)
    in_stock = arrange([v for v in values if v not in sold_out])
    out = arrange([v for v in values if v in sold_out])
    return out + in_stock if rule.sold_out == "top" else in_stock + out
