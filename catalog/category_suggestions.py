"""Suggesting categories for products: the services behind the tasks, the endpoints and the command.

The ranking itself is ``catalog.categorizing`` (pure); this module loads a
tenant's products and categories, stores the best five leaves on each product
(``Product.category_suggestions``) and puts the product into the best one
when it is likely enough. A category the merchant chose (``category_source``
"merchant", or any category set without a source) is never replaced; the
merchant's choices are what the suggester learns from.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework.exceptions import NotFound

from catalog import categorizing, index, services
from catalog.embeddings import clean_text
from catalog.models import Category, CategorySource, Product
from catalog.selectors import MAX_ID
from core.locks import keys_lock
from tenants.models import Tenant

CHUNK = 2000  # products per task at most: ranked together (they inform each other), a few seconds
CONTEXT = 1000  # a smaller batch is ranked along with up to this many of the shop's other open products
MAX_LABELLED = 5000  # the merchant's most recent assignments that the suggester learns from
REFRESH_DELAY = 5  # seconds: a taxonomy posted one category at a time is refreshed once, after the last


def category_threshold() -> float:
    """The probability above which the best suggestion becomes the product's category (CATALOG_CATEGORY_THRESHOLD)."""
    return float(getattr(settings, "CATALOG_CATEGORY_THRESHOLD", 0.8))


def _open(tenant: Tenant) -> QuerySet[Product]:
    """The tenant's products a suggestion may (re)categorise: no category, or one the suggester chose."""
    return Product.objects.for_tenant(tenant).filter(
        Q(category__isnull=True) | Q(category_source=CategorySource.SUGGESTED)
    )


def _text(name: str, brand: str, description: str, hint: str) -> categorizing.ProductText:
    return categorizing.ProductText(
        title=name, brand=brand, description=clean_text(description, index.DESCRIPTION_CHARS), hint=hint
    )


_TEXT_FIELDS = ("name", "brand", "description", "suggested_category_name")


def _labelled(tenant: Tenant, cidx: index.CategoryIndex) -> tuple[list[categorizing.ProductText], list[int]]:
    """The products the merchant categorised (most recent first, bounded) and their category rows."""
    rows = (
        Product.objects.for_tenant(tenant)
        .filter(category__isnull=False)
        .exclude(category_source=CategorySource.SUGGESTED)
        .order_by("-updated_at", "-pk")
        .values_list(*_TEXT_FIELDS, "category_id")[:MAX_LABELLED]
    )
    texts, labels = [], []
    for name, brand, description, hint, category_id in rows:
        if category_id in cidx.row_of:
            texts.append(_text(name, brand, description, hint))
            labels.append(cidx.row_of[category_id])
    return texts, labels


_reliabilities: dict[int, tuple[tuple, categorizing.Reliability]] = {}  # tenant pk -> (inputs' key, table)


def _reliability(
    tenant: Tenant, cidx: index.CategoryIndex, labelled: list[categorizing.ProductText], labels: list[int]
) -> categorizing.Reliability:
    """The shop's calibration, recomputed only when its tree or its labelled products changed: the held-out
    folds rank every labelled product again, seconds on a big tree, and one created product would pay it."""
    key = (cidx.version, id(cidx), hash(tuple(labels)), hash(tuple(labelled)))
    cached = _reliabilities.get(tenant.pk)
    if cached is not None and cached[0] == key:
        return cached[1]
    table = categorizing.reliability(cidx.categorizer, labelled, labels)
    _reliabilities[tenant.pk] = (key, table)
    return table


def category_suggestions_compute(*, tenant_id: int, product_ids: Sequence[int]) -> int:
    """Rank the leaf categories for the given products and store the best five on each; returns how many were done.

    Products the merchant categorised are skipped. The best leaf becomes the
    product's category (source "suggested") when its probability reaches the
    threshold; below it a suggested category is withdrawn. Safe to run twice:
    the same state gives the same suggestions, and rows are locked (in id
    order) while written.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or not product_ids:
        return 0
    cidx = index.category_index(tenant)
    rows = list(_open(tenant).filter(pk__in=list(product_ids)).order_by("pk").values_list("pk", *_TEXT_FIELDS))
    if not rows:
        return 0
    labelled, labels = _labelled(tenant, cidx)
    # A product is ranked among the shop's other products (they share its leanings): a small batch (one
    # created product) is topped up with other open products, ranked alongside but not written.
    context = []
    if len(rows) < CONTEXT:
        context = list(
            _open(tenant)
            .exclude(pk__in=[r[0] for r in rows])
            .order_by("-pk")
            .values_list(*_TEXT_FIELDS)[: CONTEXT - len(rows)]
        )
    texts = [_text(*r[1:]) for r in rows] + [_text(*r) for r in context]
    ranked = cidx.categorizer.rank(texts, labelled=labelled, labels=labels)[: len(rows)]
    # The score stored and shown is calibrated: the share of such suggestions that proved right on the
    # shop's own labelled products (held out), or the conservative default without enough of them.
    calibrated = _reliability(tenant, cidx, labelled, labels)
    by_pk = {
        r[0]: [
            {
                "category_id": int(cidx.ids[node]),
                "full_external_id": cidx.full_external_ids[node],
                "score": round(calibrated(score), 4),
            }
            for node, score in ranking
        ]
        for r, ranking in zip(rows, ranked, strict=True)
    }
    threshold = category_threshold()
    now = timezone.now()
    changed: list[int] = []
    with transaction.atomic():
        # The locks in the sync's order (the products' keys, then their rows by id): a sync writes product
        # rows in no particular order, and row locks taken first here deadlocked with it.
        products_q = Product.objects.for_tenant(tenant).filter(pk__in=list(by_pk))
        keys_lock("product", tenant.pk, products_q.values_list("external_id", flat=True))
        products = list(_open(tenant).select_for_update().filter(pk__in=list(by_pk)).order_by("pk"))
        for product in products:
            suggestions = by_pk[product.pk]
            best = suggestions[0] if suggestions else None
            category_id = best["category_id"] if best and best["score"] >= threshold else None
            if category_id != product.category_id:
                changed.append(product.pk)
            product.category_id = category_id
            product.category_score = best["score"] if category_id else None
            product.category_source = CategorySource.SUGGESTED if category_id else ""
            product.category_suggestions = suggestions
            product.category_suggested_at = now
            if category_id and services.can_transition(product, "categorize"):
                services.product_transition(
                    product=product, event="categorize", reason=f"suggested (p={best['score']:.2f})", save=False
                )
        Product.objects.bulk_update(
            products,
            [
                "category",
                "category_score",
                "category_source",
                "category_suggestions",
                "category_suggested_at",
                "state",
                "state_changed_at",
                "updated_at",
            ],
        )
        if changed:  # the category's name is part of the embedded text
            index.embeddings_refresh(tenant=tenant, product_ids=changed)
            transaction.on_commit(lambda: index.products_changed(tenant, changed))
    return len(products)


def category_suggestions_refresh(*, tenant: Tenant, inline: bool = False) -> int:
    """Queue fresh suggestions for every product without a merchant-set category, in chunks; returns how many.

    ``inline`` computes them here instead (the management command, tests).
    """
    from catalog import tasks  # tasks import this module

    ids = list(_open(tenant).order_by("pk").values_list("pk", flat=True))
    count = math.ceil(len(ids) / CHUNK)
    chunks = [ids[i::count] for i in range(count)]  # even sizes, so no chunk is ranked with few others
    for chunk in chunks:
        if inline:
            category_suggestions_compute(tenant_id=tenant.pk, product_ids=chunk)
        else:
            transaction.on_commit(lambda c=chunk: tasks.category_suggestions_chunk.delay(tenant.pk, c))
    return len(ids)


def _pending_key(tenant: Tenant) -> str:
    return f"catalog:category-refresh-pending:{tenant.pk}:{tenant.created_at.timestamp():.6f}"


def _last_write_key(tenant: Tenant) -> str:
    return f"catalog:category-last-write:{tenant.pk}:{tenant.created_at.timestamp():.6f}"


def categories_changed(tenant: Tenant) -> None:
    """After a category write (on commit): one refresh of the tenant's open products, once the writes stop.

    Writes in a burst (a taxonomy posted one category per request) share the
    refresh that is already pending; it reads the categories when it runs.
    """
    from catalog import tasks

    cache.set(_last_write_key(tenant), time.time(), timeout=REFRESH_DELAY * 60)
    if cache.add(_pending_key(tenant), 1, timeout=REFRESH_DELAY * 60):
        tasks.category_suggestions_refresh.apply_async((tenant.pk,), countdown=REFRESH_DELAY)


def category_suggestions_refresh_pending(*, tenant_id: int) -> int:
    """The delayed refresh queued by ``categories_changed``: put off again while writes keep coming (a
    5,000-category upload takes minutes; refreshing every few seconds re-ranked every product against each
    partial tree), then it clears the pending mark and refreshes."""
    from catalog import tasks

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    last = cache.get(_last_write_key(tenant))
    quiet = time.time() - float(last) if last is not None else math.inf
    if quiet < REFRESH_DELAY and not tasks.category_suggestions_refresh.app.conf.task_always_eager:
        # (eagerly, a countdown is not honoured: the re-queued task would run at once, over and over)
        cache.touch(_pending_key(tenant), REFRESH_DELAY * 60)  # the burst still owns the one pending refresh
        tasks.category_suggestions_refresh.apply_async((tenant.pk,), countdown=math.ceil(REFRESH_DELAY - quiet))
        return 0
    cache.delete(_pending_key(tenant))
    return category_suggestions_refresh(tenant=tenant)


@transaction.atomic
def category_delete(*, tenant: Tenant, category: Category) -> int:
    """Delete a category and its descendants; their products lose the category and get fresh suggestions.

    Returns the number of products that lost their category.
    """
    doomed = [category.pk, *(c.pk for c in services._descendants(category))]
    orphans = Product.objects.for_tenant(tenant).filter(category_id__in=doomed)
    count = orphans.update(category=None, category_score=None, category_source="", updated_at=timezone.now())
    Category.objects.for_tenant(tenant).filter(pk__in=doomed).delete()
    transaction.on_commit(lambda: index.categories_changed(tenant))
    transaction.on_commit(lambda: categories_changed(tenant))
    return count


def product_suggestions(*, tenant: Tenant, external_id: int) -> dict:
    """A product's category and ranked suggestions, categories resolved (deleted ones left out); 404 otherwise."""
    product = (
        Product.objects.for_tenant(tenant)
        .filter(external_id=external_id)
        .only("external_id", "category_id", "category_source", "category_suggestions")
        .first()
        if 0 < external_id <= MAX_ID
        else None
    )
    if product is None:
        raise NotFound("Product not found")
    stored = product.category_suggestions or []
    ids = {s.get("category_id") for s in stored} | ({product.category_id} if product.category_id else set())
    categories = Category.objects.for_tenant(tenant).in_bulk([i for i in ids if i])
    assigned = categories.get(product.category_id) if product.category_id else None
    source = None
    if assigned is not None:
        source = product.category_source or CategorySource.MERCHANT
    return {
        "product_id": product.external_id,
        "assigned": assigned.full_external_id if assigned else None,
        "source": source,
        "suggestions": [
            {
                "full_external_id": c.full_external_id,
                "category_external_id": c.external_id,
                "name": c.name,
                "score": s.get("score"),
            }
            for s in stored[: categorizing.SUGGESTIONS]
            if (c := categories.get(s.get("category_id"))) is not None
        ],
    }
