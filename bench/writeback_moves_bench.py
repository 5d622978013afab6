"""The store writeback's move plan (merchandising.sorting.reorder_moves): how many moves and
collectionReorderProducts calls a collection needs, and how long planning takes against simulating each
move on a list (what a straightforward implementation does). Pure Python, no database:

    .venv/bin/python bench/writeback_moves_bench.py --sizes 1000 10000 50000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from merchandising.sorting import moved_items, reorder_moves

MOVES_PER_CALL = 250


def simulated(current: Sequence[int], new: Sequence[int]) -> list[tuple[int, int]]:
    """The same plan by moving items in a list one by one (O(n) per move)."""
    moved = set(moved_items(current, new))
    order, out = list(current), []
    for i, pid in enumerate(new):
        if pid in moved:
            order.remove(pid)
            position = 0 if i == 0 else order.index(new[i - 1]) + 1
            order.insert(position, pid)
            out.append((pid, position))
    return out


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    args = parser.parse_args()
    for n in args.sizes:
        rng = random.Random(n)
        current = list(range(n))
        shuffled = current[:]
        rng.shuffle(shuffled)
        top = rng.sample(current[100:], 20)
        top_changed = top + [x for x in current if x not in set(top)]
        plan_ms, moves = timed(lambda c=current, s=shuffled: reorder_moves(c, s))
        sim_ms, reference = timed(lambda c=current, s=shuffled: simulated(c, s))
        assert moves == reference
        calls = -(-len(moves) // MOVES_PER_CALL)
        print(
            f"{n:>6} products, shuffled: {len(moves)} moves in {calls} calls; plan {plan_ms:.1f} ms, "
            f"simulated {sim_ms:.1f} ms (x{sim_ms / plan_ms:.0f}); top 20 changed: "
            f"{len(reorder_moves(current, top_changed))} moves"
        )


if __name__ == "__main__":
    main()
