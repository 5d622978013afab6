"""Ranking a product's recommendations (ALGORITHMS.md "Catalog: recommendations"). No Django import.

The pure engine of recommendations: given the tenant's in-memory product index
(``catalog.index``: embeddings, model keys, categories, clusters, prices) and
the order window's statistics (``catalog.purchase_stats``), it gathers
candidates of four kinds (same model in another colour or size, bundles bought
together, complementary categories, embedding neighbours) and merges them
into one list of at most ``limit`` products. It also turns titles into model
keys (the index keeps one per product). Reading the inputs is
``catalog.recommendation_selectors``; storing the result is
``catalog.recommendation_services``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from catalog.embeddings import top_k_scores

if TYPE_CHECKING:
    from catalog.index import ProductIndex

COLOURS = frozenset(
    [
        "black",
        "white",
        "red",
        "blue",
        "green",
        "yellow",
        "orange",
        "purple",
        "pink",
        "brown",
        "grey",
        "gray",
        "beige",
        "navy",
        "teal",
        "olive",
        "maroon",
        "silver",
        "gold",
        "cream",
        "ivory",
        "khaki",
        "tan",
        "burgundy",
        "turquoise",
        "charcoal",
        "coral",
        "mint",
        "lavender",
        "lilac",
        "mustard",
        "rose",
        "sand",
        "stone",
        "denim",
        "indigo",
        "cyan",
        "magenta",
        "bronze",
        "copper",
        "natural",
        "multicolor",
        "multicolour",
    ]
)
SIZES = frozenset(
    [
        "xxxs",
        "xxs",
        "xs",
        "s",
        "m",
        "l",
        "xl",
        "xxl",
        "xxxl",
        "2xl",
        "3xl",
        "4xl",
        "5xl",
        "small",
        "medium",
        "large",
        "extra",
        "petite",
        "tall",
        "regular",
        "one",
        "size",
        "os",
    ]
)
_TOKEN = re.compile(r"[a-z0-9]+")

SAME_MODEL_COLOR = "Same model; different color."
SAME_MODEL_SIZE = "Same model; different size."
BUNDLE = "Bundle frequently bought together."
COMPLEMENTARY = "Complementary product"
SIMILAR = "Similar product"

# Slots per kind before the rest is filled in kind order, so one kind cannot crowd out the others.
QUOTAS = {"same_model": 3, "bundle": 3, "complementary": 2, "similar": 10}
KIND_ORDER = ("same_model", "bundle", "complementary", "similar")
SAME_MODEL_SIMILARITY = 0.9  # "very high similarity in the same category"
PRICE_BAND = (0.5, 2.0)
_NO_ROWS = np.empty(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class ModelKey:
    # Slots, and shared colour/size sets: every product of every tenant kept in memory has one (the product
    # index's keys), and a set is over 200 bytes where most products have none or one colour.
    key: str  # brand + title without colour and size words
    colours: frozenset[str]
    sizes: frozenset[str]


# The distinct colour and size sets seen (few: combinations of a few dozen words), each kept once.
_SETS: dict[frozenset[str], frozenset[str]] = {}
_NONE: frozenset[str] = frozenset()


def _shared(words: list[str]) -> frozenset[str]:
    if not words:
        return _NONE
    found = frozenset(words)
    return _SETS.setdefault(found, found) if len(_SETS) < 100_000 else found


def model_key(brand: str, title: str) -> ModelKey:
    """Split a title into the model (what stays when colour and size words go) and its colour/size words."""
    tokens = _TOKEN.findall((title or "").lower())
    colours = [t for t in tokens if t in COLOURS]
    sizes = [t for t in tokens if t in SIZES]
    rest = [t for t in tokens if t not in COLOURS and t not in SIZES] if colours or sizes else tokens
    return ModelKey(
        key=f"{(brand or '').strip().lower()}|{' '.join(rest)}", colours=_shared(colours), sizes=_shared(sizes)
    )


def same_model_difference(a: ModelKey, b: ModelKey) -> tuple[str, list[str], list[str]] | None:
    """("color"|"size", a's values, b's values) when b is a's model differing in exactly one attribute."""
    if a.key != b.key or not a.key.split("|", 1)[1]:
        return None
    colour_differs = a.colours != b.colours
    size_differs = a.sizes != b.sizes
    if colour_differs and not size_differs:
        return "color", sorted(a.colours), sorted(b.colours)
    if size_differs and not colour_differs:
        return "size", sorted(a.sizes), sorted(b.sizes)
    return None


def lift(co_count: int, count_a: int, count_b: int, total: int) -> float:
    """How much more often two items are bought together than if they were independent."""
    if not (count_a and count_b and total):
        return 0.0
    return co_count * total / (count_a * count_b)


@dataclass
class Candidate:
    product_id: int  # internal id
    kind: str  # same_model, bundle, complementary, similar
    score: float
    source: str  # variant_group, co_purchase, category_rule, embedding
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)


def merge(candidates: Iterable[Candidate], *, excluded: set[int], limit: int = 10) -> list[Candidate]:
    """At most ``limit`` candidates: each kind best-first up to its quota, in kind order, then the rest.

    A product appears once, under the first kind (in KIND_ORDER) that proposed
    it; excluded products (the product itself, its duplicates, inactive ones)
    never appear.
    """
    by_kind: dict[str, list[Candidate]] = {k: [] for k in KIND_ORDER}
    for c in candidates:
        by_kind[c.kind].append(c)
    seen: set[int] = set(excluded)
    ranked: dict[str, list[Candidate]] = {}
    for kind in KIND_ORDER:
        ranked[kind] = []
        for c in sorted(by_kind[kind], key=lambda c: (-c.score, c.product_id)):
            if c.product_id not in seen:
                seen.add(c.product_id)
                ranked[kind].append(c)
    chosen: list[Candidate] = []
    leftovers: list[Candidate] = []
    for kind in KIND_ORDER:
        quota = QUOTAS[kind]
        chosen.extend(ranked[kind][:quota])
        leftovers.extend(ranked[kind][quota:])
    chosen = chosen[:limit]
    chosen.extend(leftovers[: limit - len(chosen)])
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    return sorted(chosen, key=lambda c: (order[c.kind], -c.score, c.product_id))


# ---- candidates of each kind over the index -------------------------------------------------------


@dataclass
class ShopContext:
    """What every product of a tenant shares in one ranking: the index and the order window's statistics."""

    idx: ProductIndex
    total: int  # orders in the window: the N of every lift
    per_category: dict[int, int]  # orders per category
    pair_counts: dict[int, dict[int, int]]  # orders per category pair
    category_names: Callable[[list[int]], dict[int, str]]  # category ids -> full_external_id (at least those asked)
    window_days: int  # the order window, shown in a bundle's evidence


def _ratio(a: float, b: float) -> float | None:
    if np.isnan(a) or np.isnan(b) or a <= 0:
        return None
    return float(b / a)


def bundle_candidates(
    shared: ShopContext, product_id: int, co: dict[int, int], counts: dict[int, int]
) -> list[Candidate]:
    """Products bought in the same orders as ``product_id`` (``co``: {product: orders holding both}), scored by lift.

    ``counts``: orders of the window holding each product (at least this one and those of ``co``).
    """
    count_i = counts.get(product_id, 0)
    if not count_i:
        return []
    out = []
    for pk, c in co.items():
        value = lift(c, count_i, counts.get(pk, c), shared.total)
        out.append(
            Candidate(
                product_id=pk,
                kind="bundle",
                score=value + c / 1000.0,  # lift first, co-count breaks ties
                source="co_purchase",
                explanation=BUNDLE,
                evidence={"co_count": c, "lift": round(value, 4), "window_days": shared.window_days},
            )
        )
    return out


def complementary_categories(shared: ShopContext, c: int) -> list[tuple[int, float]]:
    """The (at most 5) categories bought with category ``c`` more than chance, as (category, pair lift), best first."""
    total, per_category = shared.total, shared.per_category
    n_c = per_category.get(c, 0) if c != -1 else 0
    if not n_c or not total:
        return []
    lifts = {
        d: n * total / (n_c * per_category[d])
        for d, n in shared.pair_counts.get(c, {}).items()
        if n >= 2 and per_category.get(d)
    }
    return sorted(((d, v) for d, v in lifts.items() if v > 1.0), key=lambda kv: -kv[1])[:5]


def complementary_candidates(shared: ShopContext, row: int, sims: np.ndarray, allowed: np.ndarray) -> list[Candidate]:
    """Products of other categories whose category pair is bought together more than chance (lift > 1)."""
    idx = shared.idx
    c = int(idx.category[row])
    pairs = complementary_categories(shared, c)
    if not pairs:
        return []
    names = shared.category_names([c, *(d for d, _ in pairs)])
    out = []
    for d, pair_lift in pairs:
        rows = idx.category_rows.get(d, _NO_ROWS)
        rows = rows[allowed[rows]]
        if not rows.size:
            continue
        best = rows[top_k_scores(sims[rows], 3)[0]]  # ties: the lower row, as a stable sort would
        for r in best:
            sim = max(float(sims[r]), 0.0)
            out.append(
                Candidate(
                    product_id=int(idx.ids[r]),
                    kind="complementary",
                    score=pair_lift * (0.5 + sim),  # relatedness breaks ties inside a category pair
                    source="category_rule",
                    explanation=COMPLEMENTARY,
                    evidence={
                        "category_pair": [names.get(c), names.get(d)],
                        "pair_lift": round(pair_lift, 4),
                        "cosine": round(sim, 4),
                    },
                )
            )
    return out


def same_model_candidates(idx: ProductIndex, row: int, sims: np.ndarray, allowed: np.ndarray) -> list[Candidate]:
    key = idx.keys[row]
    rows = set(idx.by_model.get(key.key, ()))
    if idx.category[row] != -1:
        same = idx.category_rows.get(int(idx.category[row]), _NO_ROWS)
        close = same[allowed[same] & (sims[same] >= SAME_MODEL_SIMILARITY)]
        rows.update(int(r) for r in close[:200])
    out = []
    for r in rows:
        if not allowed[r]:
            continue
        other = idx.keys[r]
        diff = same_model_difference(key, other)
        if diff is None and other.key != key.key:
            diff = same_model_difference(key, ModelKey(key.key, other.colours, other.sizes))
        if diff is None:
            continue
        attribute, mine, theirs = diff
        out.append(
            Candidate(
                product_id=int(idx.ids[r]),
                kind="same_model",
                score=float(sims[r]),
                source="variant_group",
                explanation=SAME_MODEL_COLOR if attribute == "color" else SAME_MODEL_SIZE,
                evidence={"attribute": attribute, "values": [mine, theirs]},
            )
        )
    return out


def _in_price_band(idx: ProductIndex, row: int, rows: np.ndarray | slice) -> np.ndarray | None:
    """Which of ``rows`` are priced within PRICE_BAND of ``row`` (or unpriced); None when ``row`` has no price."""
    price = idx.price[row]
    if np.isnan(price) or price <= 0:
        return None
    ratios = idx.price[rows] / price
    return np.isnan(ratios) | ((ratios >= PRICE_BAND[0]) & (ratios <= PRICE_BAND[1]))


def similar_candidates(
    idx: ProductIndex,
    row: int,
    sims: np.ndarray,
    allowed: np.ndarray,
    whole: Callable[[], np.ndarray] | None = None,
) -> list[Candidate]:
    """Nearest neighbours by embedding, same category first, within a price band when prices are known.

    ``whole`` gives the similarities to every row when ``sims`` holds only the
    columns of the product's category and its neighbours (the batch), for the
    rare product with fewer than 10 neighbours in its category.
    """
    rows: list[int] = []
    scores: list[float] = []
    if idx.category[row] != -1:
        same = idx.category_rows.get(int(idx.category[row]), _NO_ROWS)
        mask = allowed[same]
        band = _in_price_band(idx, row, same)
        if band is not None:
            mask &= band
        r1, s1 = top_k_scores(sims[same], 10, mask)
        rows, scores = [int(r) for r in same[r1]], list(s1)
    if len(rows) < 10:
        # Few neighbours in the category: fill from the whole catalogue (one pass over every row).
        if whole is not None:
            sims = whole()
        band = _in_price_band(idx, row, slice(None))
        r2, s2 = top_k_scores(sims, 20, allowed & band if band is not None else allowed)
        taken = set(rows)
        for r, s in zip(r2, s2, strict=True):
            if int(r) not in taken and len(rows) < 10:
                rows.append(int(r))
                scores.append(s)
    out = []
    for r, s in zip(rows, scores, strict=True):
        if s <= 0:
            continue
        ratio = _ratio(idx.price[row], idx.price[r])
        out.append(
            Candidate(
                product_id=int(idx.ids[r]),
                kind="similar",
                score=float(s),
                source="embedding",
                explanation=SIMILAR,
                evidence={"cosine": round(float(s), 4), "price_ratio": round(ratio, 4) if ratio else None},
            )
        )
    return out


# ---- one product -------------------------------------------------------------------------------------


def rank(
    shared: ShopContext,
    row: int,
    sims: np.ndarray,
    co: dict[int, int],
    counts: dict[int, int],
    limit: int,
    whole: Callable[[], np.ndarray] | None = None,
) -> list[Candidate]:
    """Up to ``limit`` recommendations for the product at ``row`` of the index.

    ``sims``: its similarities to every row, or (with ``whole``) at least to the
    rows of ``category_columns(its category)`` and its same-model rows, which is
    all the ranking reads but for the catalogue-wide fill of ``similar_candidates``.
    ``co``: {product: orders holding both}; ``counts``: orders holding each product.
    """
    idx = shared.idx
    allowed = idx.eligible.copy()
    allowed[row] = False
    if idx.cluster[row] != -1:
        allowed &= idx.cluster != idx.cluster[row]
    candidates: list[Candidate] = []
    candidates += same_model_candidates(idx, row, sims, allowed)
    candidates += bundle_candidates(shared, int(idx.ids[row]), co, counts)
    candidates += complementary_candidates(shared, row, sims, allowed)
    candidates += similar_candidates(idx, row, sims, allowed, whole)
    # Only the candidates can be excluded: look those up instead of listing every excluded product.
    excluded = {c.product_id for c in candidates if (r := idx.row_of.get(c.product_id)) is not None and not allowed[r]}
    return merge(candidates, excluded=excluded, limit=limit)


def category_columns(shared: ShopContext, category: int) -> np.ndarray | None:
    """The rows a product of ``category`` is compared with: its category and the complementary ones."""
    if category == -1:
        return None
    rows = shared.idx.category_rows
    parts = [
        rows.get(category, _NO_ROWS),
        *(rows.get(d, _NO_ROWS) for d, _ in complementary_categories(shared, category)),
    ]
    return np.unique(np.concatenate(parts))
