"""Duplicate clusters by union-find over shared GTINs (ALGORITHMS.md "Catalog: GTINs and duplicates").

Pure: takes plain records, returns groups and the canonical of each. No Django import.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Record:
    """What clustering needs to know about one product."""

    id: int
    gtins: frozenset[str]  # normalised, valid, non-pack GTINs
    created_at: datetime
    has_description: bool = False
    has_image: bool = False
    has_brand: bool = False
    links: frozenset[int] = field(default_factory=frozenset)  # explicit "same product as" links (canonical picks)


class UnionFind:
    def __init__(self, items: Iterable[int]) -> None:
        self.parent = {i: i for i in items}

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression keeps later finds O(1)-ish
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def groups(records: Iterable[Record]) -> list[list[int]]:
    """Connected components of products joined by a shared GTIN or an explicit link; singletons included."""
    records = list(records)
    known = {r.id for r in records}
    uf = UnionFind(known)
    first_with: dict[str, int] = {}
    for r in records:
        for code in r.gtins:
            if code in first_with:
                uf.union(first_with[code], r.id)
            else:
                first_with[code] = r.id
        for other in r.links:
            if other in known:
                uf.union(r.id, other)
    members: dict[int, list[int]] = defaultdict(list)
    for r in records:
        members[uf.find(r.id)].append(r.id)
    return [sorted(m) for m in members.values()]


def completeness(r: Record) -> int:
    return int(bool(r.gtins)) + int(r.has_description) + int(r.has_image) + int(r.has_brand)


def pick_canonical(members: list[Record], explicit: int | None = None) -> int:
    """The explicit canonical if it is a member, else the most complete record, then the oldest, then lowest id."""
    ids = {r.id for r in members}
    if explicit is not None and explicit in ids:
        return explicit
    best = min(members, key=lambda r: (-completeness(r), r.created_at, r.id))
    return best.id
