"""Reading a product's recommendations: the inputs gathered, ranked by ``catalog.recommendation_ranking``.

Candidates come from the tenant's in-memory index (embeddings, model keys,
clusters) and from the order window's statistics (``catalog.purchase_stats``:
co-purchases, category pairs); nothing is written here (storing them is
``catalog.recommendation_services``).

Two entry points share one per-product ranking (``recommendation_ranking.rank``):
``compute`` for one product (the Sortillus recommend call) and
``recommendations_for`` for many (the "recommend all" batch), which computes
the similarities of a block of products with one matrix product and the
co-purchase counts of a whole chunk with one query, so that every product of a
100,000-product shop takes minutes instead of hours. Both give the same
recommendations (tests/catalog/test_recommend_batch.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from catalog import index, purchase_stats
from catalog.models import Category, Product
from catalog.recommendation_ranking import Candidate, ShopContext, category_columns, rank
from tenants.models import Tenant

LIMIT = 10
BLOCK = 128  # products per matrix product in the batch: 128 x 100,000 float64 similarities = 100 MB


def _context(tenant: Tenant, idx: index.ProductIndex, *, all_names: bool = False) -> ShopContext:
    """The shop's statistics for ranking; ``all_names``: every category's name read once (the batch), else
    only those a product's ranking asks for."""
    per_category, pair_counts = purchase_stats.category_stats(tenant)
    if all_names:
        names = dict(Category.objects.for_tenant(tenant).values_list("pk", "full_external_id"))

        def category_names(pks: list[int]) -> dict[int, str]:
            return names
    else:

        def category_names(pks: list[int]) -> dict[int, str]:
            return dict(Category.objects.for_tenant(tenant).filter(pk__in=pks).values_list("pk", "full_external_id"))

    return ShopContext(
        idx=idx,
        total=purchase_stats.orders_total(tenant),
        per_category=per_category,
        pair_counts=pair_counts,
        category_names=category_names,
        window_days=purchase_stats.WINDOW_DAYS,
    )


def _current_index(tenant: Tenant, product_ids: Iterable[int]) -> index.ProductIndex:
    idx = index.product_index(tenant)
    missing = [pk for pk in product_ids if pk not in idx.row_of]
    if missing:  # written after the index was built in this process
        index.products_changed(tenant, missing)
        idx = index.product_index(tenant)
    return idx


def compute(tenant: Tenant, product: Product, limit: int = LIMIT) -> list[Candidate]:
    """Up to ``limit`` recommendations for ``product`` (its duplicates and inactive products excluded)."""
    idx = _current_index(tenant, [product.pk])
    row = idx.row_of[product.pk]
    since = purchase_stats.window_start()
    co = purchase_stats.co_purchase_counts(tenant, [product.pk], since).get(product.pk, {})
    counts = purchase_stats.order_counts(tenant, [product.pk, *co], since)
    return rank(_context(tenant, idx), row, idx.similarities([row])[0], co, counts, limit)


def recommendations_for(tenant: Tenant, product_ids: Sequence[int], limit: int = LIMIT) -> dict[int, list[Candidate]]:
    """``compute`` for many products of ``tenant`` at once: {product id: its recommendations}.

    The same ranking per product; what is shared is computed once: the index
    and category statistics, every product's order count (cached for a few
    minutes, like the category statistics), the co-purchase counts of all
    ``product_ids`` (one query per purchase_stats.SQL_IDS products), and the
    similarities of up to BLOCK products of one category with the columns they
    read (one matrix product instead of BLOCK matrix-vector products over every
    row).
    """
    ids = [int(pk) for pk in product_ids]
    if not ids:
        return {}
    idx = _current_index(tenant, ids)
    since = purchase_stats.window_start()
    shared = _context(tenant, idx, all_names=True)
    co = purchase_stats.co_purchase_counts(tenant, ids, since)
    counts = purchase_stats.order_counts_all(tenant, since)
    rows = np.array([idx.row_of[pk] for pk in ids], dtype=np.int64)
    out: dict[int, list[Candidate]] = {}
    for category in np.unique(idx.category[rows]):
        group = rows[idx.category[rows] == category]
        base = category_columns(shared, int(category))  # None: every row (an uncategorised product)
        for start in range(0, len(group), BLOCK):
            block = group[start : start + BLOCK]
            cols = base
            if base is not None:
                same_model = [r for row in block for r in idx.by_model.get(idx.keys[row].key, ())]
                cols = np.union1d(base, np.asarray(same_model, dtype=np.int64))
            sims = _block_similarities(idx, block, cols)
            for k, row in enumerate(block):
                pk = int(idx.ids[row])
                whole = (lambda r=int(row): idx.similarities([r])[0]) if cols is not None else None
                out[pk] = rank(shared, int(row), sims[k], co.get(pk, {}), counts, limit, whole)
    return out


def _block_similarities(idx: index.ProductIndex, block: np.ndarray, cols: np.ndarray | None) -> np.ndarray:
    """Similarities of ``block`` rows with ``cols`` (None: every row), in full-width rows (NaN elsewhere).

    A product of one category reads the similarities of its category, the
    complementary categories and its same-model rows only (about a fifth of
    the catalogue in the demo shop), so the batch multiplies by those columns
    alone; NaN compares false, so a read outside them could not pass a test.
    """
    if cols is None:
        return idx.similarities(block)
    out = np.full((len(block), len(idx.ids)), np.nan, dtype=np.float32)
    out[:, cols] = idx.similarities(block, cols)
    return out
