"""The recipe sort engine and the revert orders of a collection: pure Python, no Django.

Normalisation (ALGORITHMS.md "Merchandising: recipe sort"): each metric is turned
into a percentile rank within the collection, in [0, 1], with the average rank for
ties. Sales are heavy-tailed: with min-max one hit would flatten every other product
to ~0, while a rank keeps the order of the long tail meaningful. When every product
has the same value the metric is neutral (0.5). Lower-is-better metrics (newness is
measured as age in days) are inverted. A product without a value for a metric
(no cost, hence no margin; no tracked inventory) leaves that metric out and its
weights are renormalised over the metrics it has.

score = 100 x weighted mean of the normalised metrics + boost.
Order: sellable products by score desc, then created_at desc, then product id asc;
sold-out products after them in the same order.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

METRICS = ("sales", "revenue", "inventory", "margin", "newness", "discount")
# Metrics where a smaller raw value is better (newness is given as age in days).
LOWER_IS_BETTER = frozenset({"newness"})


@dataclass(frozen=True)
class ProductFacts:
    """What the engine knows of one product of a collection."""

    product_id: int
    title: str
    created_at: datetime
    sold_out: bool
    boost: int = 0
    min_price: float | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    all_time_units: float = 0.0


@dataclass(frozen=True)
class Scored:
    product_id: int
    score: float
    points: dict[str, float]  # points each metric contributed (sums to score - boost)
    sold_out: bool


def percentile_ranks(values: Sequence[float | None]) -> list[float | None]:
    """Rank of each value in [0, 1] (average rank for ties); None stays None; all equal -> 0.5."""
    present = sorted((v, i) for i, v in enumerate(values) if v is not None)
    out: list[float | None] = [None] * len(values)
    n = len(present)
    if n == 0:
        return out
    if present[0][0] == present[-1][0]:
        for _, i in present:
            out[i] = 0.5
        return out
    start = 0
    while start < n:
        end = start
        while end + 1 < n and present[end + 1][0] == present[start][0]:
            end += 1
        rank = ((start + end) / 2) / (n - 1)
        for k in range(start, end + 1):
            out[present[k][1]] = rank
        start = end + 1
    return out


def score_products(products: Sequence[ProductFacts], weights: dict[str, float]) -> list[Scored]:
    """Score every product of a collection with a recipe's weights (see module docstring)."""
    active = [m for m in METRICS if weights.get(m, 0) > 0]
    normalised: dict[str, list[float | None]] = {}
    for metric in active:
        ranks = percentile_ranks([p.metrics.get(metric) for p in products])
        if metric in LOWER_IS_BETTER:
            ranks = [None if r is None else 1.0 - r for r in ranks]
        normalised[metric] = ranks
    scored = []
    for index, product in enumerate(products):
        have = [m for m in active if normalised[m][index] is not None]
        total_weight = sum(weights[m] for m in have)
        points = {}
        if total_weight > 0:
            points = {m: round(100.0 * weights[m] * normalised[m][index] / total_weight, 4) for m in have}
        score = float(round(sum(points.values()) + product.boost, 4))
        scored.append(Scored(product.product_id, score, points, product.sold_out))
    return scored


def recipe_order(products: Sequence[ProductFacts], weights: dict[str, float]) -> tuple[list[int], list[Scored]]:
    """The new order (product ids) and the scores, ties broken by newest first then id."""
    scored = score_products(products, weights)
    created = {p.product_id: p.created_at for p in products}
    by_id = {s.product_id: s for s in scored}

    def key(product_id: int):
        s = by_id[product_id]
        return (s.sold_out, -s.score, -created[product_id].timestamp(), product_id)

    return sorted(by_id, key=key), scored


def revert_order(products: Sequence[ProductFacts], method: str, manual_order: Sequence[int] | None) -> list[int]:
    """The order of a revert sort: one of the 8 Dynasort ``revert_sorting`` values.

    ``manual`` restores the stored snapshot; products added since follow in their
    current order (``products`` is given in the current order). Every other order
    breaks ties by product id so the result is total.
    """
    ids = [p.product_id for p in products]
    if method == "manual":
        current = set(ids)
        snapshot = [pid for pid in (manual_order or []) if pid in current]
        seen = set(snapshot)
        return snapshot + [pid for pid in ids if pid not in seen]

    def price(p: ProductFacts) -> float:
        return p.min_price if p.min_price is not None else float("inf")

    keys = {
        "best-selling": lambda p: (-p.all_time_units, p.title.casefold(), p.product_id),
        "alpha-asc": lambda p: (p.title.casefold(), p.product_id),
        "alpha-desc": None,
        "price-asc": lambda p: (price(p), p.product_id),
        "price-desc": lambda p: (-price(p) if p.min_price is not None else float("inf"), p.product_id),
        "created-asc": lambda p: (p.created_at, p.product_id),
        "created-desc": lambda p: (-p.created_at.timestamp(), p.product_id),
    }
    if method not in keys:
        raise ValueError(f"unknown revert order {method!r}")
    if method == "alpha-desc":
        # Reverse of alpha-asc on the title only; equal titles keep id order.
        ordered = sorted(products, key=lambda p: p.product_id)
        ordered = sorted(ordered, key=lambda p: p.title.casefold(), reverse=True)
        return [p.product_id for p in ordered]
    return [p.product_id for p in sorted(products, key=keys[method])]


def moved_items(current: Sequence[int], new: Sequence[int]) -> list[int]:
    """The fewest items to move to turn ``current`` into ``new``: those off a longest
    increasing subsequence of their current positions (n - |LIS| moves), in new order."""
    position = {pid: i for i, pid in enumerate(current)}
    seq = [position[pid] for pid in new if pid in position]
    items = [pid for pid in new if pid in position]
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(seq)
    for i, value in enumerate(seq):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        parent[i] = tail_index[k - 1] if k > 0 else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return [pid for i, pid in enumerate(items) if i not in keep] + [pid for pid in new if pid not in position]


def reorder_moves(current: Sequence[int], new: Sequence[int]) -> list[tuple[int, int]]:
    """The fewest moves (item, new position) that turn ``current`` into ``new``, for Shopify's
    ``collectionReorderProducts``. Both lists hold the same items.

    Semantics (Shopify's documented contract): moves are applied one after the other; a move takes its
    item out and puts it back so that it ends at index ``newPosition`` (zero-based) of the list as it is
    at that moment, after every earlier move, including those of earlier calls. The moved items are those of
    ``moved_items`` (off a longest increasing subsequence: n - |LIS| moves, the fewest possible).

    Each moved item is placed right after its predecessor in ``new``, in ``new`` order: the items kept
    in place are already in the right relative order, and each one ends followed by the run of moved items
    that follow it in ``new`` (the run before the first kept item goes to the front). The position "right
    after the predecessor" is i (the items new[0..i-1], all placed or kept before it) plus the moved items
    not placed yet that still sit before that run's kept item: counted with a Fenwick tree over the
    original positions, O(n log n) instead of simulating each move on a list (O(n) each).
    """
    if len(current) != len(new) or set(current) != set(new):
        raise ValueError("reorder_moves needs two orders of the same items")
    moved = set(moved_items(current, new))
    origin = {pid: i for i, pid in enumerate(current)}
    n = len(current)
    tree = [0] * (n + 1)

    def add(index: int, delta: int) -> None:
        index += 1
        while index <= n:
            tree[index] += delta
            index += index & -index

    def before(index: int) -> int:  # how many marked at original positions < index
        total = 0
        while index > 0:
            total += tree[index]
            index -= index & -index
        return total

    for pid in moved:
        add(origin[pid], 1)
    moves: list[tuple[int, int]] = []
    anchor: int | None = None  # original position of the last kept item seen in ``new``
    for i, pid in enumerate(new):
        if pid not in moved:
            anchor = origin[pid]
            continue
        add(origin[pid], -1)  # this item is the one moving: it no longer counts where it was
        pending_before = before(anchor) if anchor is not None else 0
        moves.append((pid, i + pending_before))
    return moves


def apply_moves(order: Sequence[int], moves: Iterable[tuple[int, int]]) -> list[int]:
    """``order`` after ``moves`` under the semantics of ``reorder_moves`` (a position past the end puts the
    item last). The reference the planner is checked against; also how the store's order is known after a
    writeback that stopped part way."""
    result = list(order)
    for pid, position in moves:
        result.remove(pid)
        result.insert(min(position, len(result)), pid)
    return result


def plan_fingerprint(
    *,
    recipe_id: int,
    days: str,
    weights: dict[str, float],
    current: Sequence[int],
    products: Sequence[ProductFacts],
    new: Sequence[int],
) -> str:
    """SHA-256 of everything a recipe sort's order is computed from, and of the order itself.

    Two previews agree exactly when the recipe, the membership and its current order, every
    product's metric values, boost and sold-out state, and the proposed order are the same. Ages are
    taken as creation times (``created_at``) so the fingerprint does not drift with the clock.
    """
    h = hashlib.sha256()

    def put(value: object) -> None:
        h.update(repr(value).encode())
        h.update(b"\x1f")

    put((recipe_id, days, sorted((k, float(v)) for k, v in weights.items())))
    put(tuple(current))
    for p in sorted(products, key=lambda f: f.product_id):
        metrics = tuple(sorted((k, v) for k, v in p.metrics.items() if k != "newness"))
        put((p.product_id, p.created_at.timestamp(), p.sold_out, p.boost, metrics))
    put(tuple(new))
    return h.hexdigest()
