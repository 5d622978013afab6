"""Combining recommendation candidates (ALGORITHMS.md "Catalog: recommendations"). No Django import.

The service gathers candidates of four kinds (same model in another colour or
size, bundles bought together, complementary categories, embedding
neighbours); this module turns titles into model keys, scores co-purchases
and merges the kinds into one list of at most ``limit`` products.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
