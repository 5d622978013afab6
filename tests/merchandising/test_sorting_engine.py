"""The recipe sort engine and revert orders (pure functions, hand-computed cases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from merchandising import sorting
from merchandising.sorting import ProductFacts

NOW = datetime(2026, 1, 31, tzinfo=UTC)


def facts(pid: int, *, sales=0.0, sold_out=False, boost=0, age=10, title=None, price=10.0, **metrics) -> ProductFacts:
    return ProductFacts(
        product_id=pid,
        title=title or f"P{pid}",
        created_at=NOW - timedelta(days=age),
        sold_out=sold_out,
        boost=boost,
        min_price=price,
        metrics={"sales": sales, "newness": float(age), **metrics},
        all_time_units=sales,
    )


def test_percentile_rank_averages_ties_and_spans_zero_to_one():
    assert sorting.percentile_ranks([10, 20, 20, 40]) == [0.0, 0.5, 0.5, 1.0]


def test_percentile_rank_all_equal_is_neutral_and_none_stays_none():
    assert sorting.percentile_ranks([3, None, 3]) == [0.5, None, 0.5]


def test_sales_only_recipe_orders_by_units_sold():
    products = [facts(1, sales=5), facts(2, sales=50), facts(3, sales=0), facts(4, sales=7)]
    order, _ = sorting.recipe_order(products, {"sales": 1})
    assert order == [2, 4, 1, 3]


def test_scores_are_hundred_times_weighted_mean_plus_boost():
    products = [facts(1, sales=1, margin=0.5), facts(2, sales=3, margin=0.1), facts(3, sales=2, margin=None)]
    scored = {s.product_id: s for s in sorting.score_products(products, {"sales": 3, "margin": 1})}
    # product 1: sales rank 0, margin rank 1 -> 100 * (3*0 + 1*1) / 4 = 25
    assert scored[1].score == 25.0 and scored[1].points == {"sales": 0.0, "margin": 25.0}
    # product 3 has no margin: weights renormalised over sales alone -> rank 0.5 -> 50
    assert scored[3].score == 50.0 and scored[3].points == {"sales": 50.0}


def test_boost_moves_a_product_up():
    # scores 100, 50 and 0 + 60: the boost lifts product 3 above 2, not above 1
    products = [facts(1, sales=10), facts(2, sales=5), facts(3, sales=1, boost=60)]
    assert sorting.recipe_order(products, {"sales": 1})[0] == [1, 3, 2]


def test_negative_boost_pushes_down():
    products = [facts(1, sales=10, boost=-200), facts(2, sales=5)]
    assert sorting.recipe_order(products, {"sales": 1})[0] == [2, 1]


def test_sold_out_products_sink_below_every_in_stock_one():
    products = [facts(1, sales=100, sold_out=True), facts(2, sales=1), facts(3, sales=0, sold_out=True)]
    assert sorting.recipe_order(products, {"sales": 1})[0] == [2, 1, 3]


def test_ties_break_by_newest_then_id():
    products = [facts(5, sales=1, age=3), facts(2, sales=1, age=1), facts(1, sales=1, age=3)]
    assert sorting.recipe_order(products, {"sales": 1})[0] == [2, 1, 5]


def test_newness_prefers_younger_products():
    products = [facts(1, age=100), facts(2, age=1), facts(3, age=30)]
    assert sorting.recipe_order(products, {"newness": 1})[0] == [2, 3, 1]


MANUAL = [3, 1, 2]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("manual", [3, 1, 2, 4]),
        ("best-selling", [2, 4, 1, 3]),
        ("alpha-asc", [4, 1, 3, 2]),
        ("alpha-desc", [2, 3, 1, 4]),
        ("price-asc", [3, 1, 4, 2]),
        ("price-desc", [2, 4, 1, 3]),
        ("created-asc", [2, 3, 4, 1]),
        ("created-desc", [1, 4, 3, 2]),
    ],
)
def test_revert_orders(method, expected):
    products = [
        facts(1, sales=5, title="banana", price=5, age=1),
        facts(2, sales=50, title="Date", price=40, age=40),
        facts(3, sales=1, title="cherry", price=1, age=20),
        facts(4, sales=7, title="apple", price=20, age=10),
    ]
    assert sorting.revert_order(products, method, MANUAL) == expected


def test_manual_revert_without_snapshot_keeps_current_order():
    products = [facts(2), facts(1)]
    assert sorting.revert_order(products, "manual", None) == [2, 1]


def test_unknown_revert_order_is_refused():
    with pytest.raises(ValueError):
        sorting.revert_order([facts(1)], "random", None)


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [([1, 2, 3, 4], [1, 2, 3, 4], 0), ([1, 2, 3, 4], [4, 1, 2, 3], 1), ([1, 2, 3, 4], [4, 3, 2, 1], 3)],
)
def test_moves_are_items_off_a_longest_increasing_subsequence(current, new, moves):
    moved = sorting.moved_items(current, new)
    assert len(moved) == moves
    # applying the moves to the items kept in place gives the new order
    kept = [pid for pid in new if pid not in moved]
    assert kept == [pid for pid in current if pid in kept]
