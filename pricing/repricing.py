"""The repricing engine (ALGORITHMS.md "Pricing: repricing"): pure, no Django, Decimal only.

``decide(current=..., offers=..., rules=..., now=...)`` returns a ``Decision``: the
price to set (or ``None`` to keep the current one) and why. The caller loads the
data, applies the decision to the catalog variants and records it in history.

Order of the steps, as the algorithm says:
1. drop stale, out-of-stock and excluded offers;
2. reference = the cheapest remaining offer;
3. target from the strategy (match, beat by an amount or a percentage, stay above cost);
4. floor = max(min price, cost floor); the cost floor is ``cost / (1 - margin)`` (a margin on
   the selling price, not a markup on cost: 20 % margin on cost 8.00 is 10.00, a 20 % markup 9.60);
5. no offers left: keep the price (or go to min/max when configured);
6. clamp to [floor, max], round to cents or a .99 ending without leaving [floor, max];
7. a maximum step per run and a dead band keep prices from oscillating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NamedTuple

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class Strategy(StrEnum):
    MATCH_LOWEST = "match_lowest"
    BEAT_LOWEST = "beat_lowest"
    STAY_ABOVE_COST = "stay_above_cost"


class NoOffers(StrEnum):
    KEEP = "keep"
    MIN = "min"
    MAX = "max"


class Offer(NamedTuple):
    """One competitor's current offer for the product (a tuple: a run builds 500,000 of them)."""

    competitor: str
    price: Decimal
    in_stock: bool
    observed_at: datetime


@dataclass(frozen=True)
class Rules:
    """A product's repricing settings. Percentages are given as percent (5 means 5 %)."""

    strategy: Strategy = Strategy.MATCH_LOWEST
    beat_amount: Decimal | None = None
    beat_percent: Decimal | None = None
    min_margin_percent: Decimal = Decimal(0)
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    cost: Decimal | None = None
    charm: bool = False  # end prices in .99
    threshold: Decimal = CENT  # changes smaller than this are skipped (dead band)
    max_step_percent: Decimal | None = None  # at most this change per run, relative to the current price
    max_age: timedelta = timedelta(hours=48)  # offers older than this are stale
    include_out_of_stock: bool = False
    excluded: frozenset[str] = frozenset()
    no_offers: NoOffers = NoOffers.KEEP


@dataclass(frozen=True)
class Decision:
    """The outcome of one repricing: ``price`` is None when the current price stays."""

    price: Decimal | None
    reason: str
    reference: Decimal | None = None
    floor: Decimal | None = None
    target: Decimal | None = None
    ignored: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.price is not None

    def as_dict(self) -> dict[str, object]:
        """A JSON-safe record of the decision for price history (money as strings)."""
        money = {
            k: (str(v) if v is not None else None)
            for k, v in (
                ("reference", self.reference),
                ("floor", self.floor),
                ("target", self.target),
                ("price", self.price),
            )
        }
        return {**money, "reason": self.reason, "ignored": dict(self.ignored)}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cost_floor(cost: Decimal | None, margin_percent: Decimal) -> Decimal | None:
    """The lowest price that keeps ``margin_percent`` of the selling price: cost / (1 - g), rounded up."""
    if cost is None:
        return None
    if not Decimal(0) <= margin_percent < HUNDRED:
        raise ValueError("margin must be in [0, 100)")
    return (cost / (1 - margin_percent / HUNDRED)).quantize(CENT, rounding=ROUND_CEILING)


def _is_stale(offer: Offer, rules: Rules, now: datetime) -> bool:
    return now - offer.observed_at > rules.max_age


def _money(value: Decimal | None) -> str:
    # str, not a format to 2 decimals: amounts come with 2 decimals from the database and the engine, and a
    # stray notation (18.0 for 18.00) only makes the product be decided once more, never skipped wrongly
    return "" if value is None else str(value)


def inputs_context(*, offers: Iterable[Offer], rules: Rules, now: datetime) -> str:
    """Everything ``decide`` depends on but the current price (see ``inputs_key``), as text."""
    parts = [
        rules.strategy.value,
        _money(rules.beat_amount),
        str(rules.beat_percent),
        str(rules.min_margin_percent),
        _money(rules.min_price),
        _money(rules.max_price),
        _money(rules.cost),
        str(rules.charm),
        _money(rules.threshold),
        str(rules.max_step_percent),
        str(rules.include_out_of_stock),
        ",".join(sorted(rules.excluded)),
        rules.no_offers.value,
    ]
    for offer in sorted(offers, key=lambda o: (o.competitor, o.price)):
        parts += [offer.competitor, _money(offer.price), str(offer.in_stock), str(_is_stale(offer, rules, now))]
    return "\x1f".join(parts)


def inputs_key(*, current: Decimal, offers: Iterable[Offer], rules: Rules, now: datetime) -> str:
    """A digest of everything ``decide`` depends on: equal keys give equal decisions.

    ``now`` counts only through which offers are stale (the one use ``decide``
    makes of time), so the key stays the same between runs until an input changes
    or an offer ages past ``max_age``. Different keys may still give equal
    decisions (a caller that skips on equal keys only does some work again).
    """
    return price_key(current, inputs_context(offers=offers, rules=rules, now=now))


def price_key(current: Decimal, context: str) -> str:
    """``inputs_key`` of ``current`` under a context from ``inputs_context`` (several prices, one context)."""
    return hashlib.blake2b(f"{_money(current)}\x1f{context}".encode(), digest_size=16).hexdigest()


def usable_offers(offers: Iterable[Offer], rules: Rules, now: datetime) -> tuple[list[Offer], dict[str, str]]:
    """The offers that count, and why each other one was ignored."""
    kept: list[Offer] = []
    ignored: dict[str, str] = {}
    for offer in offers:
        if offer.competitor in rules.excluded:
            ignored[offer.competitor] = "excluded"
        elif _is_stale(offer, rules, now):
            ignored[offer.competitor] = "stale"
        elif not offer.in_stock and not rules.include_out_of_stock:
            ignored[offer.competitor] = "out_of_stock"
        elif offer.price <= 0:
            ignored[offer.competitor] = "no_price"
        else:
            kept.append(offer)
    return kept, ignored


def _charm(price: Decimal, low: Decimal, high: Decimal | None) -> Decimal:
    """The nearest .99 ending at or below ``price`` that is not under ``low``; else the next one up; else ``price``."""
    down = price.to_integral_value(rounding=ROUND_FLOOR) + Decimal("0.99")
    if down > price:
        down -= 1
    if down >= low and down >= 0:
        return down
    up = low.to_integral_value(rounding=ROUND_FLOOR) + Decimal("0.99")
    if up < low:
        up += 1
    if high is None or up <= high:
        return up
    return price


def decide(*, current: Decimal, offers: Iterable[Offer], rules: Rules, now: datetime) -> Decision:
    """Decide the product's new price from its competitors' offers and its rules."""
    kept, ignored = usable_offers(offers, rules, now)
    floor_parts = [p for p in (rules.min_price, cost_floor(rules.cost, rules.min_margin_percent)) if p is not None]
    floor = max(floor_parts) if floor_parts else Decimal(0)
    ceiling = rules.max_price
    if ceiling is not None and ceiling < floor:
        # cost floor above max price: the floor wins (never sell below cost), the ceiling gives way
        ceiling = floor
    reference = min((o.price for o in kept), default=None)

    if rules.strategy == Strategy.STAY_ABOVE_COST and rules.cost is None:
        return Decision(None, "cost unknown: stay_above_cost needs a cost price", reference, floor, None, ignored)

    if reference is None:
        if rules.no_offers == NoOffers.MIN and floor > 0:
            target, why = floor, "no usable competitor offers: go to the floor"
        elif rules.no_offers == NoOffers.MAX and ceiling is not None:
            target, why = ceiling, "no usable competitor offers: go to the maximum"
        else:
            return Decision(None, "no usable competitor offers: price kept", None, floor, None, ignored)
    elif rules.strategy == Strategy.MATCH_LOWEST:
        target, why = reference, f"match lowest competitor price {reference}"
    else:
        # beat_lowest, and stay_above_cost (which beats the lowest when told to, and otherwise matches it,
        # but never gives up the minimum margin)
        target = reference
        why = f"match lowest competitor price {reference}"
        if rules.beat_amount is not None:
            target = reference - rules.beat_amount
            why = f"beat lowest competitor price {reference} by {rules.beat_amount}"
        elif rules.beat_percent is not None:
            target = reference * (1 - rules.beat_percent / HUNDRED)
            why = f"beat lowest competitor price {reference} by {rules.beat_percent}%"
        if rules.strategy == Strategy.STAY_ABOVE_COST:
            why += f", keeping a {rules.min_margin_percent}% margin on cost {rules.cost}"

    target = cents(target)
    price = target
    if price < floor:
        price = floor
        why += f"; raised to the floor {floor}"
    if ceiling is not None and price > ceiling:
        price = ceiling
        why += f"; lowered to the maximum {ceiling}"
    if rules.max_step_percent is not None and current > 0:
        step = cents(current * rules.max_step_percent / HUNDRED)
        limited = min(max(price, current - step), current + step)
        if limited != price:
            # a step limit never pushes the price outside [floor, ceiling]
            limited = max(limited, floor)
            if ceiling is not None:
                limited = min(limited, ceiling)
            if limited != price:
                price = limited
                why += f"; step limited to {rules.max_step_percent}%"
    if rules.charm:
        price = _charm(price, floor, ceiling)
    if abs(price - current) < rules.threshold or price == current:
        return Decision(
            None, f"{why}; change below threshold {rules.threshold}: kept", reference, floor, target, ignored
        )
    return Decision(price, why, reference, floor, target, ignored)
