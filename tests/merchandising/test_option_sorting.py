"""Option value sorting: every sort type, sold-out placement, unknown values (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from merchandising.option_sorting import SORT_TYPES, Rule, VariantFacts, sort_values

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def v(color: str, *, price=10.0, compare=None, cost=None, inv=5, sellable=True, age=0, units=0.0, revenue=0.0):
    return VariantFacts(
        options=(color,),
        price=price,
        compare_at_price=compare,
        cost=cost,
        inventory=inv,
        sellable=sellable,
        created_at=T0 + timedelta(days=age),
        units=units,
        revenue=revenue,
    )


VALUES = ["Red", "Blue", "Green"]
VARIANTS = [
    v("Red", price=12, compare=20, cost=6, inv=1, age=5, units=3, revenue=36),
    v("Blue", price=10, compare=11, cost=9, inv=9, age=9, units=10, revenue=100),
    v("Green", price=15, compare=None, cost=3, inv=4, age=1, units=1, revenue=15),
]

# expected order with direction desc (largest first) for each metric type
METRIC_CASES = {
    "sales": ["Blue", "Red", "Green"],
    "revenues": ["Blue", "Red", "Green"],
    "prices": ["Green", "Red", "Blue"],
    "compare_at_prices": ["Red", "Blue", "Green"],  # Green has none: unknown, last
    "costs": ["Blue", "Red", "Green"],
    "inventories": ["Blue", "Green", "Red"],
    "margins": ["Green", "Red", "Blue"],  # 0.8, 0.5, 0.1
    "discount_amounts": ["Red", "Blue", "Green"],  # 8, 1, 0
    "discount_percentages": ["Red", "Blue", "Green"],
    "variant_ages": ["Blue", "Red", "Green"],  # newest first
    "variants_in_stock": ["Red", "Blue", "Green"],  # all in stock: ties keep current order
}


@pytest.mark.parametrize(("sort_type", "expected"), METRIC_CASES.items())
def test_metric_sort_types_desc(sort_type, expected):
    assert sort_values(Rule(sort_type, direction="desc"), VALUES, 0, VARIANTS) == expected


@pytest.mark.parametrize("sort_type", ["sales", "prices", "margins"])
def test_asc_reverses_known_values(sort_type):
    desc = sort_values(Rule(sort_type, direction="desc"), VALUES, 0, VARIANTS)
    assert sort_values(Rule(sort_type, direction="asc"), VALUES, 0, VARIANTS) == desc[::-1]


def test_off_keeps_the_current_order():
    assert sort_values(Rule("off"), VALUES, 0, VARIANTS) == VALUES


def test_alphabetical_defaults_to_a_to_z_case_insensitively():
    assert sort_values(Rule("alphabetical"), ["beta", "Alpha", "gamma"], 0, []) == ["Alpha", "beta", "gamma"]


def test_numeric_uses_first_number_and_puts_unknown_last():
    values = ["1 L", "500 ml", "Travel", "10.5", "2,5 kg"]
    got = sort_values(Rule("numeric", sold_out="ignore"), values, 0, [])
    assert got == ["1 L", "2,5 kg", "10.5", "500 ml", "Travel"]


def test_variants_in_stock_puts_in_stock_values_first():
    variants = [v("Red", sellable=False), v("Blue"), v("Green", sellable=False)]
    rule = Rule("variants_in_stock", sold_out="ignore")
    assert sort_values(rule, VALUES, 0, variants) == ["Blue", "Red", "Green"]


def test_comma_separated_follows_pattern_case_insensitively_unknown_after():
    rule = Rule("comma_separated", csv_pattern=" green ,RED", sold_out="ignore")
    assert sort_values(rule, ["Red", "Blue", "Green", "Black"], 0, []) == ["Green", "Red", "Blue", "Black"]


@pytest.mark.parametrize(
    ("system", "values", "expected"),
    [
        ("intl_letters", ["XL", "s", "Medium", "XXS", "Huge", "L"], ["XXS", "s", "Medium", "L", "XL", "Huge"]),
        (
            "us_apparel",
            ["One Size", "12", "XL", "2", "00", "0", "S", "3T", "32x30", "30x32"],
            ["3T", "S", "XL", "00", "0", "2", "12", "30x32", "32x30", "One Size"],
        ),
        ("us_shoes", ["10", "9.5 W", "9.5", "5Y", "12C", "Boot"], ["12C", "5Y", "9.5", "9.5 W", "10", "Boot"]),
        ("eu_shoes", ["42", "38", "EU 40", "41,5", "XL"], ["38", "EU 40", "41,5", "42", "XL"]),
    ],
)
def test_common_sizes_known_values_small_to_large_unknown_after(system, values, expected):
    rule = Rule("common_sizes", common_size=system, sold_out="ignore")
    assert sort_values(rule, values, 0, []) == expected


@pytest.mark.parametrize(("sold_out", "expected"), [("bottom", ["Blue", "Red"]), ("top", ["Red", "Blue"])])
def test_sold_out_values_go_to_the_bottom_or_top(sold_out, expected):
    variants = [v("Red", units=50, sellable=False), v("Blue", units=1)]
    assert sort_values(Rule("sales", sold_out=sold_out), ["Red", "Blue"], 0, variants) == expected


def test_sold_out_ignore_sorts_by_the_key_only():
    variants = [v("Red", units=1), v("Blue", units=50, sellable=False)]
    assert sort_values(Rule("sales", sold_out="ignore"), ["Red", "Blue"], 0, variants) == ["Blue", "Red"]


def test_second_option_reads_option2_and_sums_its_variants():
    variants = [
        VariantFacts(("Red", "S"), 10, None, None, 1, True, T0, units=4),
        VariantFacts(("Blue", "S"), 10, None, None, 1, True, T0, units=4),
        VariantFacts(("Red", "M"), 10, None, None, 1, True, T0, units=5),
    ]
    assert sort_values(Rule("sales"), ["M", "S"], 1, variants) == ["S", "M"]


def test_every_documented_sort_type_is_handled():
    documented = {
        "off", "alphabetical", "sales", "revenues", "prices", "compare_at_prices", "costs", "inventories",
        "margins", "discount_amounts", "discount_percentages", "numeric", "variant_ages", "variants_in_stock",
        "comma_separated", "common_sizes",
    }  # fmt: skip
    assert documented == SORT_TYPES
    for sort_type in documented:
        rule = Rule(sort_type, csv_pattern="Blue", common_size="us_apparel")
        assert sorted(sort_values(rule, VALUES, 0, VARIANTS)) == sorted(VALUES)
