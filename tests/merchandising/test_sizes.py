"""Size values as shops write them (merchandising/sizes.py), literal cases and the shared real lists."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from merchandising import sizes
from merchandising.option_sorting import Rule, VariantFacts, sold_out_values, sort_values

REAL_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "realdata"
REAL_SIZES = REAL_DATA / "sizes" / "size_options_real.json"


def ordered(values: list[str], system: str = "") -> list[str]:
    return sort_values(Rule("common_sizes", common_size=system, sold_out="ignore"), values, 0, [])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # baby and kids' ages written many ways
        (["12-24months", "0-6 months", "6-12 Months"], ["0-6 months", "6-12 Months", "12-24months"]),
        (["1-2 Years", "6-12 months", "0-6 months"], ["0-6 months", "6-12 months", "1-2 Years"]),
        (["3-6M", "Newborn", "0-3M", "6-9 mths"], ["Newborn", "0-3M", "3-6M", "6-9 mths"]),
        (["4T", "18-24 Months", "2T", "3T"], ["18-24 Months", "2T", "3T", "4T"]),
        (["5-6Y", "3-4Y", "7-8 yrs", "2 years"], ["2 years", "3-4Y", "5-6Y", "7-8 yrs"]),
        # letters, their spellings and size words
        (["XXL", "X-Small", "Medium", "2XL", "s"], ["X-Small", "s", "Medium", "XXL", "2XL"]),
        (["L/XL", "S/M", "XL", "M"], ["S/M", "M", "L/XL", "XL"]),
        (["Large", "Standard"], ["Standard", "Large"]),
        (["Maxi", "Mini", "Midi"], ["Mini", "Midi", "Maxi"]),
        (["Grande", "Pequeño", "Mediano"], ["Pequeño", "Mediano", "Grande"]),
        (["L", "YM", "S", "YS"], ["YS", "YM", "S", "L"]),
        (["XL (Pack of 2)", "M (Pack of 2)"], ["M (Pack of 2)", "XL (Pack of 2)"]),
        # shoes: halves, thirds, kids/youth, widths, prefixes
        (["10", "7 1/2", "7½", "8", "9.5"], ["7 1/2", "7½", "8", "9.5", "10"]),
        (["42", "41,5", "EU 40", "40 2/3"], ["EU 40", "40 2/3", "41,5", "42"]),
        (["US 9", "1Y", "13C", "US 8"], ["13C", "1Y", "US 8", "US 9"]),
        (["9 W", "9 N", "9"], ["9 N", "9", "9 W"]),
        (["10 (W)", "9.5 (W)", "9.5 (N)"], ["9.5 (N)", "9.5 (W)", "10 (W)"]),
        # numeric apparel, kids' 6X, waist x length
        (["4", "00", "2", "0", "10"], ["00", "0", "2", "4", "10"]),
        (["7", "6X", "6", "5"], ["5", "6", "6X", "7"]),
        (["34x32", "32x34", "32x30", "W30 L32"], ["W30 L32", "32x30", "32x34", "34x32"]),
        # quantities: ranges, dimensions, units
        (["(5 - 10kg)", "(1.25 - 2.5kg)", "(2.5 - 5 kg)"], ["(1.25 - 2.5kg)", "(2.5 - 5 kg)", "(5 - 10kg)"]),
        (["100x70 cm", "50x70 cm", "140*100 cm"], ["50x70 cm", "100x70 cm", "140*100 cm"]),
        (["1 L", "500 ml", "250ml"], ["250ml", "500 ml", "1 L"]),
        (["Plus 420mm", "Super 365mm"], ["Super 365mm", "Plus 420mm"]),
        # one size last, unknown values after the placed ones in their current order
        (["One Size", "L", "S"], ["S", "L", "One Size"]),
        (["Huge", "XL", "Tiny", "S"], ["S", "XL", "Huge", "Tiny"]),
        (["Taille unique", "Zebra", "M"], ["M", "Taille unique", "Zebra"]),
    ],
)
def test_common_sizes_without_a_system_detects_it(values, expected):
    assert ordered(values) == expected


def test_detection_reads_youth_shoes_as_shoes_not_as_ages():
    # "1Y" alone could be an age; next to "12C" the shoe reading places every value.
    assert ordered(["2Y", "1Y", "13C", "12C"]) == ["12C", "13C", "1Y", "2Y"]


def test_a_named_system_reads_first_and_detection_places_the_rest_after():
    assert ordered(["42", "38", "XL", "40"], "eu_shoes") == ["38", "40", "42", "XL"]
    assert ordered(["1-2 Years", "0-6 months", "L", "S"], "intl_letters") == ["S", "L", "0-6 months", "1-2 Years"]


def test_us_apparel_orders_families_like_a_size_chart():
    values = ["One Size", "12", "XL", "2", "00", "0", "S", "3T", "32x30", "30x32", "6-12 months"]
    assert ordered(values, "us_apparel") == [
        "6-12 months", "3T", "S", "XL", "00", "0", "2", "12", "30x32", "32x30", "One Size"
    ]  # fmt: skip


def test_descending_reverses_the_placed_values_only():
    rule = Rule("common_sizes", direction="desc", sold_out="ignore")
    assert sort_values(rule, ["M", "Huge", "S", "L"], 0, []) == ["L", "M", "S", "Huge"]


@pytest.mark.parametrize("value", ["Red", "", "Size", "12 monkeys", "x"])
def test_values_that_are_no_size_are_not_placed(value):
    assert sizes.size_keys([value])[value] is None


# The real lists (../shared/data/realdata/sizes): each distinct list with the order a shopper expects.
EXPECTED_REAL = {
    ("(1.25 - 2.5kg)", "(5 - 10kg)", "(10 - 20kg)", "(20 - 40 kg)", "(2.5 - 5 kg)", "(40 - 60 kg)"): [
        "(1.25 - 2.5kg)", "(2.5 - 5 kg)", "(5 - 10kg)", "(10 - 20kg)", "(20 - 40 kg)", "(40 - 60 kg)"
    ],
    ("6-12 months", "1-2 Years", "0-6 months"): ["0-6 months", "6-12 months", "1-2 Years"],
    ("6-12 months", "0-6 months", "12-18 months"): ["0-6 months", "6-12 months", "12-18 months"],
    ("3-6 months", "6-12 months", "0-3 months"): ["0-3 months", "3-6 months", "6-12 months"],
    ("100x70 cm", "50x70 cm"): ["50x70 cm", "100x70 cm"],
    ("100x70 cm", "50x70 cm", "100*140 cm"): ["50x70 cm", "100x70 cm", "100*140 cm"],
    ("100x70 cm", "50x70 cm", "140*100 cm"): ["50x70 cm", "100x70 cm", "140*100 cm"],
}  # fmt: skip


@pytest.mark.skipif(not REAL_SIZES.exists(), reason="shared real data not present")
def test_real_size_lists_are_ordered_as_a_shopper_expects_and_every_value_is_placed():
    records = json.loads(REAL_SIZES.read_text())
    distinct, unplaced = set(), set()
    for record in records:
        values = record["values_in_shop_order"]
        distinct |= set(values)
        keys = sizes.size_keys(values)
        unplaced |= {v for v in values if keys[v] is None}
        # Lists not in EXPECTED_REAL are already in the expected order in the shop (checked by hand).
        expected = EXPECTED_REAL.get(tuple(values), values)
        assert ordered(values) == expected, record["title"]
    assert len(distinct) >= 50
    assert len(unplaced) <= 0.05 * len(distinct), sorted(unplaced)


def _facts(record: dict) -> list[VariantFacts]:
    """The record's variants with the sync's stock rule: untracked (sellable) without stock figures."""
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for v in record["variants"]:
        quantity = v.get("inventory_quantity")
        tracked = quantity is not None and v.get("inventory_management") is not None
        options = tuple(o or "" for o in v["options"])
        out.append(VariantFacts(options, 1.0, None, None, quantity or 0, not tracked or quantity > 0, t0))
    return out


@pytest.mark.skipif(not REAL_SIZES.exists(), reason="shared real data not present")
def test_real_size_lists_with_the_default_sold_out_bottom_keep_size_order_within_each_group():
    # The vendor's default sold_out is "bottom": sold-out sizes go last, each group in size order.
    moved = 0
    for record in json.loads(REAL_SIZES.read_text()):
        values = record["values_in_shop_order"]
        facts = _facts(record)
        index = next(i for i, o in enumerate(record["variants"][0]["options"]) if o in values)
        expected = EXPECTED_REAL.get(tuple(values), values)
        sold_out = sold_out_values(values, index, facts)
        moved += bool(sold_out) and len(values) > 1
        want = [v for v in expected if v not in sold_out] + [v for v in expected if v in sold_out]
        assert sort_values(Rule("common_sizes"), values, index, facts) == want, record["title"]
    assert moved > 0  # the file has sold-out sizes, so the grouping is exercised
