"""Computing products' recommendations (the work behind the Celery tasks).

Candidates come from the tenant's in-memory index (embeddings, model keys,
clusters) and from order lines (co-purchases, category pairs); the pure
``recommending`` module merges them.

Two entry points share one per-product ranking (``_recommend_row``): ``compute``
for one product (the Sortillus recommend call) and ``recommendations_for`` for
many (the "recommend all" batch), which computes the similarities of a block
of products with one matrix product and the co-purchase counts of a whole
chunk with one query, so that every product of a 100,000-product shop takes
minutes instead of hours. Both give the same recommendations
(tests/catalog/test_recommend_batch.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from catalog import index, recommending, services
from catalog.embeddings import top_k_scores
from catalog.models import Category, Order, OrderLine, Product, Recommendation
from catalog.recommending import Candidate
from core import bulk
from core.outbox import enqueue
from tenants.models import Tenant

WINDOW_DAYS = 365
MIN_CO_PURCHASES = 3
SAME_MODEL_SIMILARITY = 0.9  # "very high similarity in the same category"
PRICE_BAND = (0.5, 2.0)
LIMIT = 10
BLOCK = 128  # products per matrix product in the batch: 128 x 100,000 float64 similarities = 100 MB
SQL_IDS = 500  # product ids per co-purchase query (SQLite's bound-parameter limit, PostgreSQL's plan size)
_NO_ROWS = np.empty(0, dtype=np.int64)
_CO_PURCHASE_SQL = (
    "SELECT a.product_id, b.product_id, COUNT(DISTINCT a.order_id) FROM {line} a "
    "JOIN {order} o ON o.id = a.order_id JOIN {line} b ON b.order_id = a.order_id "
    "WHERE a.tenant_id = %s AND o.tenant_id = %s AND b.tenant_id = %s AND a.product_id IN ({ids}) "
    "AND o.created_at >= %s AND o.cancelled_at IS NULL AND b.product_id IS NOT NULL AND b.product_id <> a.product_id "
    "GROUP BY a.product_id, b.product_id HAVING COUNT(DISTINCT a.order_id) >= %s"
)


def _ratio(a: float, b: float) -> float | None:
    if np.isnan(a) or np.isnan(b) or a <= 0:
        return None
    return float(b / a)


def _since() -> datetime:
    return timezone.now() - timedelta(days=WINDOW_DAYS)


def _window(tenant: Tenant, since: datetime | None = None):
    since = since or _since()
    return OrderLine.objects.for_tenant(tenant).filter(order__created_at__gte=since, order__cancelled_at__isnull=True)


def _orders_total(tenant: Tenant) -> int:
    """Orders in the window: the N of every lift. The same for every product of a shop and slow to
    count at 100k+ orders (half of one product's recommendation time), so it is cached for as long
    as the category statistics it goes with."""
    key = f"catalog:orders-total:{tenant.pk}:{tenant.created_at.timestamp():.6f}"
    total = cache.get(key)
    if total is None:
        total = Order.objects.for_tenant(tenant).filter(created_at__gte=_since(), cancelled_at__isnull=True).count()
        cache.set(key, total, timeout=300)
    return total


# ---- co-purchases ---------------------------------------------------------------------------------


def co_purchase_counts(tenant: Tenant, product_ids: Sequence[int], since: datetime) -> dict[int, dict[int, int]]:
    """For each of ``product_ids``: {other product: orders of the window holding both}, at least MIN_CO_PURCHASES.

    One self-join of the window's order lines per SQL_IDS products (the ORM
    cannot pair two lines of one order and exclude the product itself in one
    query); the same query for one product and for a chunk of them, so both
    recommendation paths count alike.
    """
    line, order = OrderLine._meta.db_table, Order._meta.db_table
    out: dict[int, dict[int, int]] = {}
    ids = sorted({int(pk) for pk in product_ids})
    for start in range(0, len(ids), SQL_IDS):
        part = ids[start : start + SQL_IDS]
        # Table names come from the models and every value is a bound parameter.
        sql = _CO_PURCHASE_SQL.format(line=line, order=order, ids=", ".join(["%s"] * len(part)))
        params = [tenant.pk, tenant.pk, tenant.pk, *part, connection.ops.adapt_datetimefield_value(since)]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, MIN_CO_PURCHASES])
            for a, b, c in cursor.fetchall():
                out.setdefault(int(a), {})[int(b)] = int(c)
    return out


def order_counts(tenant: Tenant, product_ids: Iterable[int], since: datetime) -> dict[int, int]:
    """Orders of the window holding each product (products without any are left out)."""
    ids = sorted({int(pk) for pk in product_ids})
    out: dict[int, int] = {}
    for start in range(0, len(ids), 5 * SQL_IDS):
        out.update(
            _window(tenant, since)
            .filter(product_id__in=ids[start : start + 5 * SQL_IDS])
            .values("product_id")
            .annotate(n=Count("order_id", distinct=True))
            .values_list("product_id", "n")
        )
    return out


def _order_counts_all(tenant: Tenant, since: datetime) -> dict[int, int]:
    """``order_counts`` of every product of the tenant, cached like the category statistics.

    A chunk's products and their partners are spread over the catalogue, and
    an IN list of a few thousand ids cost a second per chunk (PostgreSQL, 1M
    lines); one GROUP BY for the whole window serves every chunk of a run.
    """
    key = f"catalog:order-counts:{tenant.pk}:{tenant.created_at.timestamp():.6f}"
    counts = cache.get(key)
    if counts is None:
        counts = dict(
            _window(tenant, since)
            .filter(product__isnull=False)
            .values("product_id")
            .annotate(n=Count("order_id", distinct=True))
            .values_list("product_id", "n")
        )
        cache.set(key, counts, timeout=300)
    return counts


def bundle_candidates(product_id: int, co: dict[int, int], counts: dict[int, int], total: int) -> list[Candidate]:
    """Products bought in the same orders at least MIN_CO_PURCHASES times, scored by lift."""
    count_i = counts.get(product_id, 0)
    if not count_i:
        return []
    out = []
    for pk, c in co.items():
        value = recommending.lift(c, count_i, counts.get(pk, c), total)
        out.append(
            Candidate(
                product_id=pk,
                kind="bundle",
                score=value + c / 1000.0,  # lift first, co-count breaks ties
                source="co_purchase",
                explanation=recommending.BUNDLE,
                evidence={"co_count": c, "lift": round(value, 4), "window_days": WINDOW_DAYS},
            )
        )
    return out


# ---- category pairs ------------------------------------------------------------------------------


def _category_stats(tenant: Tenant) -> tuple[dict[int, int], dict[int, dict[int, int]]]:
    """Orders per category and per category pair in the window.

    One scan of the window's (order, category) pairs, counted in Python and
    cached for a few minutes: category-level co-purchase rates move slowly,
    and recomputing them per product would scan every order line each time.
    """
    key = f"catalog:category-stats:{tenant.pk}:{tenant.created_at.timestamp():.6f}"
    stats = cache.get(key)
    if stats is None:
        per_category: dict[int, int] = {}
        pairs: dict[int, dict[int, int]] = {}
        rows = (
            _window(tenant)
            .filter(product__category__isnull=False)
            .values_list("order_id", "product__category_id")
            .distinct()
            .order_by("order_id")
        )
        current, cats = None, []
        for order_id, category_id in [*rows.iterator(chunk_size=10_000), (None, None)]:
            if order_id != current:
                for c in cats:
                    per_category[c] = per_category.get(c, 0) + 1
                    row = pairs.setdefault(c, {})
                    for d in cats:
                        if c != d:
                            row[d] = row.get(d, 0) + 1
                current, cats = order_id, []
            if category_id is not None:
                cats.append(category_id)
        stats = (per_category, pairs)
        cache.set(key, stats, timeout=300)
    return stats


@dataclass
class _Shared:
    """What every product of a tenant shares in one computation: the index and the window's statistics."""

    tenant: Tenant
    idx: index.ProductIndex
    total: int
    per_category: dict[int, int]
    pair_counts: dict[int, dict[int, int]]
    names: dict[int, str] | None = None  # category id -> full_external_id; None: looked up per product

    def category_names(self, pks: list[int]) -> dict[int, str]:
        if self.names is not None:
            return self.names
        return dict(Category.objects.for_tenant(self.tenant).filter(pk__in=pks).values_list("pk", "full_external_id"))


def _shared(tenant: Tenant, idx: index.ProductIndex, *, all_names: bool = False) -> _Shared:
    per_category, pair_counts = _category_stats(tenant)
    names = dict(Category.objects.for_tenant(tenant).values_list("pk", "full_external_id")) if all_names else None
    return _Shared(tenant, idx, _orders_total(tenant), per_category, pair_counts, names)


def complementary_categories(shared: _Shared, c: int) -> list[tuple[int, float]]:
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


def complementary_candidates(shared: _Shared, row: int, sims: np.ndarray, allowed: np.ndarray) -> list[Candidate]:
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
                    explanation=recommending.COMPLEMENTARY,
                    evidence={
                        "category_pair": [names.get(c), names.get(d)],
                        "pair_lift": round(pair_lift, 4),
                        "cosine": round(sim, 4),
                    },
                )
            )
    return out


# ---- embedding neighbours -------------------------------------------------------------------------


def same_model_candidates(idx: index.ProductIndex, row: int, sims: np.ndarray, allowed: np.ndarray) -> list[Candidate]:
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
        diff = recommending.same_model_difference(key, other)
        if diff is None and other.key != key.key:
            diff = recommending.same_model_difference(key, recommending.ModelKey(key.key, other.colours, other.sizes))
        if diff is None:
            continue
        attribute, mine, theirs = diff
        out.append(
            Candidate(
                product_id=int(idx.ids[r]),
                kind="same_model",
                score=float(sims[r]),
                source="variant_group",
                explanation=recommending.SAME_MODEL_COLOR if attribute == "color" else recommending.SAME_MODEL_SIZE,
                evidence={"attribute": attribute, "values": [mine, theirs]},
            )
        )
    return out


def _in_price_band(idx: index.ProductIndex, row: int, rows: np.ndarray | slice) -> np.ndarray | None:
    """Which of ``rows`` are priced within PRICE_BAND of ``row`` (or unpriced); None when ``row`` has no price."""
    price = idx.price[row]
    if np.isnan(price) or price <= 0:
        return None
    ratios = idx.price[rows] / price
    return np.isnan(ratios) | ((ratios >= PRICE_BAND[0]) & (ratios <= PRICE_BAND[1]))


def similar_candidates(
    idx: index.ProductIndex,
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
                explanation=recommending.SIMILAR,
                evidence={"cosine": round(float(s), 4), "price_ratio": round(ratio, 4) if ratio else None},
            )
        )
    return out


# ---- one product, many products ------------------------------------------------------------------


def _recommend_row(
    shared: _Shared,
    row: int,
    sims: np.ndarray,
    co: dict[int, int],
    counts: dict[int, int],
    limit: int,
    whole: Callable[[], np.ndarray] | None = None,
) -> list[Candidate]:
    """Up to ``limit`` recommendations for the product at ``row`` of the index.

    ``sims``: its similarities to every row, or (with ``whole``) at least to the
    rows of ``_columns(row)``, which is all the ranking reads but for the
    catalogue-wide fill of ``similar_candidates``.
    """
    idx = shared.idx
    allowed = idx.eligible.copy()
    allowed[row] = False
    if idx.cluster[row] != -1:
        allowed &= idx.cluster != idx.cluster[row]
    candidates: list[Candidate] = []
    candidates += same_model_candidates(idx, row, sims, allowed)
    candidates += bundle_candidates(int(idx.ids[row]), co, counts, shared.total)
    candidates += complementary_candidates(shared, row, sims, allowed)
    candidates += similar_candidates(idx, row, sims, allowed, whole)
    # Only the candidates can be excluded: look those up instead of listing every excluded product.
    excluded = {c.product_id for c in candidates if (r := idx.row_of.get(c.product_id)) is not None and not allowed[r]}
    return recommending.merge(candidates, excluded=excluded, limit=limit)


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
    since = _since()
    co = co_purchase_counts(tenant, [product.pk], since).get(product.pk, {})
    counts = order_counts(tenant, [product.pk, *co], since)
    return _recommend_row(_shared(tenant, idx), row, idx.similarities([row])[0], co, counts, limit)


def recommendations_for(tenant: Tenant, product_ids: Sequence[int], limit: int = LIMIT) -> dict[int, list[Candidate]]:
    """``compute`` for many products of ``tenant`` at once: {product id: its recommendations}.

    The same ranking per product; what is shared is computed once: the index
    and category statistics, every product's order count (cached for a few
    minutes, like the category statistics), the co-purchase counts of all
    ``product_ids`` (one query per SQL_IDS products), and the similarities of up
    to BLOCK products of one category with the columns they read (one matrix
    product instead of BLOCK matrix-vector products over every row).
    """
    ids = [int(pk) for pk in product_ids]
    if not ids:
        return {}
    idx = _current_index(tenant, ids)
    since = _since()
    shared = _shared(tenant, idx, all_names=True)
    co = co_purchase_counts(tenant, ids, since)
    counts = _order_counts_all(tenant, since)
    rows = np.array([idx.row_of[pk] for pk in ids], dtype=np.int64)
    out: dict[int, list[Candidate]] = {}
    for category in np.unique(idx.category[rows]):
        group = rows[idx.category[rows] == category]
        base = _category_columns(shared, int(category))  # None: every row (an uncategorised product)
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
                out[pk] = _recommend_row(shared, int(row), sims[k], co.get(pk, {}), counts, limit, whole)
    return out


def _category_columns(shared: _Shared, category: int) -> np.ndarray | None:
    """The rows a product of ``category`` is compared with: its category and the complementary ones."""
    if category == -1:
        return None
    rows = shared.idx.category_rows
    parts = [
        rows.get(category, _NO_ROWS),
        *(rows.get(d, _NO_ROWS) for d, _ in complementary_categories(shared, category)),
    ]
    return np.unique(np.concatenate(parts))


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


def _reason(c: Candidate, computed_at: str) -> dict:
    return {
        "type": c.kind,
        "source": c.source,
        "score": round(c.score, 4),
        "evidence": c.evidence,
        "computed_at": computed_at,
    }


def _recommendation_rows(tenant: Tenant, product_id: int, chosen: list[Candidate], now: datetime):
    computed_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        Recommendation(
            tenant=tenant,
            product_id=product_id,
            recommended_id=c.product_id,
            position=i,
            explanation=c.explanation,
            reason_json=_reason(c, computed_at),
            computed_at=now,
        )
        for i, c in enumerate(chosen)
    ]


def product_recommendations_compute(*, product_id: int) -> bool:
    """Compute and store a product's recommendations if it is ``recommending_products``; idempotent.

    Returns False when there was nothing to do (already done by another run).
    """
    product = Product.objects.select_related("tenant").filter(pk=product_id).first()
    if product is None or product.state != services.S.RECOMMENDING:
        return False
    tenant = product.tenant
    chosen = compute(tenant, product)
    now = timezone.now()
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product_id)
        if product.state != services.S.RECOMMENDING:
            return False
        Recommendation.objects.filter(product=product).delete()
        Recommendation.objects.bulk_create(_recommendation_rows(tenant, product.pk, chosen, now))
        services.product_transition(
            product=product, event="recommendations_done", reason=f"{len(chosen)} recommendations", save=False
        )
        product.recommended_at = now
        product.last_error = ""
        product.save(update_fields=["state", "state_changed_at", "recommended_at", "last_error", "updated_at"])
    return True


def recommendations_chunk_compute(*, tenant_id: int, product_ids: Sequence[int]) -> int:
    """Compute and store the recommendations of a chunk of one tenant's products; returns how many were stored.

    Safe to run twice and on several workers at once: a product's list is
    replaced as a whole, inside one transaction per chunk. Products in
    ``recommending_products`` are skipped: their own task (the Sortillus
    recommend call) stores their list and moves their state. The batch does not
    move products through the state machine; it sets ``recommended_at``.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    ids = list(Product.objects.for_tenant(tenant).filter(pk__in=list(product_ids)).values_list("pk", flat=True))
    results = recommendations_for(tenant, ids)
    now = timezone.now()
    with transaction.atomic():
        writable = list(
            Product.objects.for_tenant(tenant)
            .select_for_update()
            .filter(pk__in=list(results))
            .exclude(state=services.S.RECOMMENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Recommendation.objects.for_tenant(tenant).filter(product_id__in=writable).delete()
        # Written with COPY (bulk.bulk_insert): ~10 rows per product, and bulk_create spent more time preparing
        # 100,000 rows of a chunk-sized batch than computing them. The rows are new: the old ones are deleted.
        computed_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        bulk.bulk_insert(
            Recommendation,
            ["tenant_id", "product_id", "recommended_id", "position", "explanation", "reason_json", "computed_at"],
            [
                (tenant.pk, pk, c.product_id, i, c.explanation, _reason(c, computed_at), now)
                for pk in writable
                for i, c in enumerate(results[pk])
            ],
        )
        Product.objects.for_tenant(tenant).filter(pk__in=writable).update(recommended_at=now, updated_at=now)
    return len(writable)


def recommendations_all(*, tenant: Tenant, chunk_size: int = 1000, inline: bool = False) -> int:
    """Recompute the stored recommendations of every product of ``tenant`` that may be recommended.

    The products are cut into chunks of ``chunk_size`` ids, each one Celery
    task (``catalog.tasks.recommendations_chunk``, enqueued after commit; eager
    in the embedded mode), or, with ``inline``, computed here one after the
    other. Returns the number of chunks.
    """
    from catalog import tasks

    ids = list(
        Product.objects.for_tenant(tenant)
        .filter(active=True, status="active")
        .order_by("category_id", "pk")  # a chunk of few categories compares with few columns
        .values_list("pk", flat=True)
    )
    chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
    for chunk in chunks:
        if inline:
            recommendations_chunk_compute(tenant_id=tenant.pk, product_ids=chunk)
        else:
            enqueue(tasks.recommendations_chunk, tenant.pk, chunk)
    return len(chunks)
