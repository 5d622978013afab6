"""The pure repricing engine on hand-computed cases (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from pricing.repricing import NoOffers, Offer, Rules, Strategy, cost_floor, decide, inputs_key

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def offer(name: str, price: str, *, in_stock: bool = True, age_hours: float = 1) -> Offer:
    return Offer(name, D(price), in_stock, NOW - timedelta(hours=age_hours))


OFFERS = [offer("a", "24.50"), offer("b", "22.00"), offer("c", "27.10")]


def run(current: str = "25.00", offers=OFFERS, **rules):
    return decide(current=D(current), offers=offers, rules=Rules(**rules), now=NOW)


def test_match_lowest_takes_the_cheapest_offer():
    decision = run()
    assert decision.price == D("22.00")
    assert decision.reference == D("22.00")
    assert "match lowest" in decision.reason


def test_beat_lowest_by_an_amount():
    assert run(strategy=Strategy.BEAT_LOWEST, beat_amount=D("0.50")).price == D("21.50")


def test_beat_lowest_by_a_percentage_rounds_half_up_to_cents():
    # 22.00 * (1 - 0.035) = 21.23
    assert run(strategy=Strategy.BEAT_LOWEST, beat_percent=D("3.5")).price == D("21.23")
    # 19.99 * 0.95 = 18.9905 -> 18.99
    assert run(offers=[offer("a", "19.99")], strategy=Strategy.BEAT_LOWEST, beat_percent=D(5)).price == D("18.99")


def test_clamped_to_min_price():
    decision = run(strategy=Strategy.BEAT_LOWEST, beat_amount=D(2), min_price=D("21.00"))
    assert decision.price == D("21.00")
    assert decision.target == D("20.00")
    assert "floor" in decision.reason


def test_clamped_to_max_price_when_the_market_is_above_it():
    decision = run(current="10.00", offers=[offer("a", "30.00")], max_price=D("18.00"))
    assert decision.price == D("18.00")


def test_never_below_cost_even_without_min_price():
    # cheapest 22.00, cost 23.10: the cost is the floor
    assert run(cost=D("23.10")).price == D("23.10")


def test_cost_floor_beats_a_lower_max_price():
    # max 20 below cost 21: never sell under cost
    assert run(cost=D("21.00"), max_price=D("20.00")).price == D("21.00")


def test_margin_and_markup_are_different_numbers():
    # 20 % margin on cost 8.00: 8 / 0.8 = 10.00 (a 20 % markup would be 9.60)
    assert cost_floor(D("8.00"), D(20)) == D("10.00")
    # 30 % margin on 7.00: 10.00; 30 % margin on 7.01: 10.0142... rounds up to 10.02 to keep the margin
    assert cost_floor(D("7.01"), D(30)) == D("10.02")


def test_stay_above_cost_keeps_the_minimum_margin():
    # cheapest 22.00 minus 1.00 = 21.00, but cost 18.00 at 20 % margin needs 22.50
    decision = run(strategy=Strategy.STAY_ABOVE_COST, cost=D("18.00"), min_margin_percent=D(20), beat_amount=D(1))
    assert decision.price == D("22.50")
    assert decision.floor == D("22.50")


def test_stay_above_cost_follows_the_market_when_the_margin_allows():
    decision = run(strategy=Strategy.STAY_ABOVE_COST, cost=D("10.00"), min_margin_percent=D(20), beat_amount=D(1))
    assert decision.price == D("21.00")


def test_stay_above_cost_without_cost_keeps_the_price():
    decision = run(strategy=Strategy.STAY_ABOVE_COST)
    assert decision.price is None
    assert "cost unknown" in decision.reason


def test_stale_offers_are_ignored():
    offers = [offer("old", "10.00", age_hours=49), offer("fresh", "23.00", age_hours=47)]
    decision = run(offers=offers)
    assert decision.price == D("23.00")
    assert decision.ignored == {"old": "stale"}


def test_out_of_stock_offers_are_ignored_unless_included():
    offers = [offer("gone", "10.00", in_stock=False), offer("there", "23.00")]
    assert run(offers=offers).price == D("23.00")
    assert run(offers=offers).ignored == {"gone": "out_of_stock"}
    assert run(offers=offers, include_out_of_stock=True).price == D("10.00")


def test_excluded_competitors_are_ignored():
    assert run(excluded=frozenset({"b"})).price == D("24.50")


@pytest.mark.parametrize(
    ("no_offers", "expected"),
    [(NoOffers.KEEP, None), (NoOffers.MIN, D("15.00")), (NoOffers.MAX, D("40.00"))],
)
def test_no_usable_offers(no_offers, expected):
    offers = [offer("old", "10.00", age_hours=100)]
    decision = run(offers=offers, no_offers=no_offers, min_price=D("15.00"), max_price=D("40.00"))
    assert decision.price == expected


def test_change_below_threshold_is_skipped():
    decision = run(current="22.10", threshold=D("0.25"))
    assert decision.price is None
    assert "below threshold" in decision.reason
    assert run(current="22.30", threshold=D("0.25")).price == D("22.00")


def test_no_change_when_already_at_target():
    assert run(current="22.00").price is None


def test_charm_ending_rounds_down_to_99():
    assert run(charm=True).price == D("21.99")


def test_charm_ending_never_drops_below_the_floor():
    # target 22.00 -> 21.99 would be under min 22.00, so the next .99 up: 22.99
    assert run(charm=True, min_price=D("22.00")).price == D("22.99")
    # ... unless that is above max: then plain cents
    assert run(charm=True, min_price=D("22.00"), max_price=D("22.50")).price == D("22.00")


def test_max_step_limits_the_change_per_run():
    # 10 % of 25.00 is 2.50: 25.00 -> 22.00 is cut to 22.50; 25.00 -> 24.00 is within the step
    assert run(max_step_percent=D(10)).price == D("22.50")
    assert run(offers=[offer("a", "24.00")], max_step_percent=D(10)).price == D("24.00")


def test_decision_is_a_fixed_point():
    first = run(strategy=Strategy.BEAT_LOWEST, beat_amount=D("0.50"))
    second = run(current=str(first.price), strategy=Strategy.BEAT_LOWEST, beat_amount=D("0.50"))
    assert second.price is None


def test_money_stays_decimal():
    decision = run(strategy=Strategy.BEAT_LOWEST, beat_percent=D("33.33"))
    assert isinstance(decision.price, D)
    assert decision.price == D("14.67")  # 22.00 * 0.6667 = 14.6674


def key(current: str = "25.00", offers=OFFERS, now: datetime = NOW, **rules) -> str:
    return inputs_key(current=D(current), offers=offers, rules=Rules(**rules), now=now)


def test_inputs_key_ignores_offer_order():
    assert key(offers=list(reversed(OFFERS))) == key()


@pytest.mark.parametrize(
    "changed",
    [
        {"current": "25.01"},
        {"offers": [*OFFERS[:2], offer("c", "27.11")]},
        {"offers": [*OFFERS[:2], offer("c", "27.10", in_stock=False)]},
        {"offers": OFFERS[:2]},
        {"strategy": Strategy.BEAT_LOWEST},
        {"min_price": D("20.00")},
        {"cost": D("10.00")},
        {"max_step_percent": D(5)},
        {"charm": True},
    ],
)
def test_inputs_key_changes_with_every_input(changed):
    assert key(**changed) != key()


def test_inputs_key_changes_when_an_offer_goes_stale_and_only_then():
    # offer "a" is 1 hour old: fresh until 48 hours have passed
    assert key(now=NOW + timedelta(hours=46)) == key()
    assert key(now=NOW + timedelta(hours=48)) != key()


@pytest.mark.parametrize(
    ("offers", "rules"),
    [
        (OFFERS, {}),
        (OFFERS, {"strategy": Strategy.BEAT_LOWEST, "beat_percent": D("3.33")}),
        (OFFERS, {"strategy": Strategy.BEAT_LOWEST, "beat_amount": D("0.10"), "charm": True}),
        (OFFERS, {"strategy": Strategy.STAY_ABOVE_COST, "cost": D("20.00"), "min_margin_percent": D(15)}),
        (OFFERS, {"min_price": D("23.50"), "max_price": D("23.80"), "charm": True}),
        (OFFERS, {"threshold": D("1.00")}),
        ([], {"no_offers": NoOffers.MIN, "min_price": D("19.99")}),
        ([], {"no_offers": NoOffers.MAX, "max_price": D("31.00"), "charm": True}),
    ],
)
def test_without_a_step_limit_the_price_set_is_kept_on_the_next_run(offers, rules):
    # repricing skips a product after a change on this property (services._reprice_chunk)
    first = run(current="27.35", offers=offers, **rules)
    assert first.price is not None
    assert run(current=str(first.price), offers=offers, **rules).price is None
