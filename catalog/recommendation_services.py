"""Storing products' recommendations (the work behind the Celery tasks) and fanning the batch out as tasks.

What to recommend is read by ``catalog.recommendation_selectors``; here it is
written: one product's list when the Sortillus recommend call moved it to
``recommending_products`` (``product_recommendations_compute``), a chunk of
products' lists for "recommend all" (``recommendations_chunk_compute``), and
every product of a shop cut into such chunks, one task each
(``recommendations_all``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalog import recommendation_selectors, services
from catalog.models import Product, Recommendation
from catalog.recommendation_ranking import Candidate
from core import bulk
from core.outbox import enqueue
from tenants.models import Tenant


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
    chosen = recommendation_selectors.compute(tenant, product)
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
    results = recommendation_selectors.recommendations_for(tenant, ids)
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
