"""Computing a product's recommendations and suggesting categories (the work behind the Celery tasks).

Candidates come from the tenant's in-memory index (embeddings, model keys,
clusters) and from order lines (co-purchases, category pairs); the pure
``recommending`` module merges them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from catalog import index, recommending, services
from catalog.embeddings import top_k_scores
from catalog.models import Category, Order, OrderLine, Product, Recommendation
from catalog.recommending import Candidate
from tenants.models import Tenant

WINDOW_DAYS = 365
MIN_CO_PURCHASES = 3
SAME_MODEL_SIMILARITY = 0.9  # "very high similarity in the same category"
PRICE_BAND = (0.5, 2.0)


def _ratio(a: float, b: float) -> float | None:
    if np.isnan(a) or np.isnan(b) or a <= 0:
        return None
    return float(b / a)


def _window(tenant: Tenant):
    since = timezone.now() - timedelta(days=WINDOW_DAYS)
    return OrderLine.objects.for_tenant(tenant).filter(order__created_at__gte=since, order__cancelled_at__isnull=True)


def _orders_total(tenant: Tenant) -> int:
    """Orders in the window: the N of every lift. The same for every product of a shop and slow to
    count at 100k+ orders (half of one product's recommendation time), so it is cached for as long
    as the category statistics it goes with."""
    key = f"catalog:orders-total:{tenant.pk}:{tenant.created_at.timestamp():.6f}"
    total = cache.get(key)
    if total is None:
        since = timezone.now() - timedelta(days=WINDOW_DAYS)
        total = Order.objects.for_tenant(tenant).filter(created_at__gte=since, cancelled_at__isnull=True).count()
        cache.set(key, total, timeout=300)
    return total


def bundle_candidates(tenant: Tenant, product: Product, total: int) -> list[Candidate]:
    """Products bought in the same orders at least MIN_CO_PURCHASES times, scored by lift."""
    lines = _window(tenant)
    orders = lines.filter(product=product).values("order_id")
    count_i = orders.distinct().count()
    if not count_i:
        return []
    co = dict(
        lines.filter(order_id__in=orders, product__isnull=False)
        .exclude(product=product)
        .values("product_id")
        .annotate(c=Count("order_id", distinct=True))
        .filter(c__gte=MIN_CO_PURCHASES)
        .values_list("product_id", "c")
    )
    if not co:
        return []
    counts = dict(
        lines.filter(product_id__in=list(co))
        .values("product_id")
        .annotate(n=Count("order_id", distinct=True))
        .values_list("product_id", "n")
    )
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


def complementary_candidates(
    tenant: Tenant, product: Product, idx: index.ProductIndex, sims: np.ndarray, allowed: np.ndarray, total: int
) -> list[Candidate]:
    """Products of other categories whose category pair is bought together more than chance (lift > 1)."""
    if product.category_id is None or not total:
        return []
    per_category, pair_counts = _category_stats(tenant)
    c = product.category_id
    n_c = per_category.get(c, 0)
    if not n_c:
        return []
    lifts = {
        d: n * total / (n_c * per_category[d])
        for d, n in pair_counts.get(c, {}).items()
        if n >= 2 and per_category.get(d)
    }
    lifts = {d: v for d, v in lifts.items() if v > 1.0}
    if not lifts:
        return []
    names = dict(Category.objects.for_tenant(tenant).filter(pk__in=[c, *lifts]).values_list("pk", "full_external_id"))
    out = []
    for d, pair_lift in sorted(lifts.items(), key=lambda kv: -kv[1])[:5]:
        mask = allowed & (idx.category == d)
        rows = np.flatnonzero(mask)
        if not rows.size:
            continue
        best = rows[np.argsort(-sims[rows], kind="stable")[:3]]
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


def same_model_candidates(idx: index.ProductIndex, row: int, sims: np.ndarray, allowed: np.ndarray) -> list[Candidate]:
    key = idx.keys[row]
    rows = set(idx.by_model.get(key.key, ()))
    if idx.category[row] != -1:
        close = np.flatnonzero(allowed & (sims >= SAME_MODEL_SIMILARITY) & (idx.category == idx.category[row]))
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


def similar_candidates(idx: index.ProductIndex, row: int, sims: np.ndarray, allowed: np.ndarray) -> list[Candidate]:
    """Nearest neighbours by embedding, same category first, within a price band when prices are known."""
    ratios = idx.price / idx.price[row] if not np.isnan(idx.price[row]) and idx.price[row] > 0 else None
    mask = allowed.copy()
    if ratios is not None:
        in_band = np.isnan(ratios) | ((ratios >= PRICE_BAND[0]) & (ratios <= PRICE_BAND[1]))
        mask &= in_band
    rows, scores = [], []
    if idx.category[row] != -1:
        r1, s1 = top_k_scores(sims, 10, mask & (idx.category == idx.category[row]))
        rows, scores = list(r1), list(s1)
    if len(rows) < 10:
        r2, s2 = top_k_scores(sims, 20, mask)
        for r, s in zip(r2, s2, strict=True):
            if r not in set(rows) and len(rows) < 10:
                rows.append(r)
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


def compute(tenant: Tenant, product: Product, limit: int = 10) -> list[Candidate]:
    """Up to ``limit`` recommendations for ``product`` (its duplicates and inactive products excluded)."""
    idx = index.product_index(tenant)
    row = idx.row_of.get(product.pk)
    if row is None:  # written after the index was built in this process
        index.products_changed(tenant)
        idx = index.product_index(tenant)
        row = idx.row_of[product.pk]
    sims = idx.matrix @ idx.matrix[row]
    allowed = idx.eligible.copy()
    allowed[row] = False
    if idx.cluster[row] != -1:
        allowed &= idx.cluster != idx.cluster[row]
    total = _orders_total(tenant)
    candidates: list[Candidate] = []
    candidates += same_model_candidates(idx, row, sims, allowed)
    candidates += bundle_candidates(tenant, product, total)
    candidates += complementary_candidates(tenant, product, idx, sims, allowed, total)
    candidates += similar_candidates(idx, row, sims, allowed)
    excluded = {int(pk) for pk in idx.ids[~allowed]}
    return recommending.merge(candidates, excluded=excluded, limit=limit)


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
        Recommendation.objects.bulk_create(
            Recommendation(
                tenant=tenant,
                product=product,
                recommended_id=c.product_id,
                position=i,
                explanation=c.explanation,
                reason_json={
                    "type": c.kind,
                    "source": c.source,
                    "score": round(c.score, 4),
                    "evidence": c.evidence,
                    "computed_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
                computed_at=now,
            )
            for i, c in enumerate(chosen)
        )
        services.product_transition(
            product=product, event="recommendations_done", reason=f"{len(chosen)} recommendations", save=False
        )
        product.recommended_at = now
        product.last_error = ""
        product.save(update_fields=["state", "state_changed_at", "recommended_at", "last_error", "updated_at"])
    return True


# ---- category suggestion --------------------------------------------------------------------------


def category_threshold() -> tuple[float, float]:
    return (
        # Calibrated for the hashing backend on tests/catalog/test_category_suggestion.py's taxonomy;
        # a sentence-embedding backend scores higher and wants its own values.
        getattr(settings, "CATALOG_CATEGORY_THRESHOLD", 0.22),
        getattr(settings, "CATALOG_CATEGORY_MARGIN", 0.05),
    )


ANCESTOR_WEIGHT = 0.3
HINT_WEIGHT = 0.6  # suggested_category_name is the shop's own hint: it weighs more than the product text


def score_categories(cidx: index.CategoryIndex, *, text: str, hint: str) -> list[tuple[int, float]]:
    """(category row, score) of leaf categories, best first: cosine plus a fraction of the ancestors' cosine."""
    if not cidx.ids.size:
        return []
    query = index.embed_query(text, cidx.idf)
    if hint:
        query = (1 - HINT_WEIGHT) * query + HINT_WEIGHT * index.embed_query(hint, cidx.idf)
        norm = float(np.linalg.norm(query))
        query = query / norm if norm else query
    cos = cidx.matrix @ query
    scores = []
    for r in np.flatnonzero(cidx.leaf):
        anc = cidx.ancestors[r]
        bonus = float(np.mean(cos[anc])) if anc else float(cos[r])
        scores.append((int(r), (float(cos[r]) + ANCESTOR_WEIGHT * bonus) / (1 + ANCESTOR_WEIGHT)))
    scores.sort(key=lambda rs: -rs[1])
    return scores


def product_category_suggest(*, product_ids: Iterable[int]) -> int:
    """Suggest categories for uncategorised products; assigns when the best leaf passes the threshold.

    Returns the number of products that got a category. Products that already
    have one keep it (a shop's choice wins over a suggestion).
    """
    assigned = 0
    threshold, margin = category_threshold()
    for pk in product_ids:
        with transaction.atomic():
            product = Product.objects.select_for_update().select_related("tenant").filter(pk=pk).first()
            if product is None or product.category_id is not None:
                continue
            tenant = product.tenant
            cidx = index.category_index(tenant)
            text = index.product_text(
                name=product.name, brand=product.brand, category="", description=product.description
            )
            ranked = score_categories(cidx, text=text, hint=product.suggested_category_name)
            if not ranked:
                continue
            product.category_suggestions = [
                {"category_id": int(cidx.ids[r]), "full_external_id": cidx.full_external_ids[r], "score": round(s, 4)}
                for r, s in ranked[:3]
            ]
            best_row, best = ranked[0]
            second = ranked[1][1] if len(ranked) > 1 else 0.0
            if best >= threshold and best - second >= margin:
                product.category_id = int(cidx.ids[best_row])
                product.category_score = best
                if services.can_transition(product, "categorize"):
                    services.product_transition(
                        product=product, event="categorize", reason=f"suggested (score {best:.3f})", save=False
                    )
                assigned += 1
            product.save()
            if product.category_id is not None:
                index.embeddings_refresh(tenant=tenant, product_ids=[product.pk])
                transaction.on_commit(lambda t=tenant: index.products_changed(t))
    return assigned
