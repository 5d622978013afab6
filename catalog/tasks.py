"""Celery tasks of the catalog: thin wrappers over services, safe to run twice.

A recommendation task that fails for good leaves its product in ``error``
with the reason; transient database errors are retried with backoff first.
"""

from __future__ import annotations

import logging

from celery import shared_task

from catalog import category_suggestions, index, recommendation_services, services
from catalog.models import Product
from core.retry import MAX_RETRIES, RETRY_TRANSIENT, TRANSIENT, transient_backoff
from tenants.models import Tenant

log = logging.getLogger("catalog.tasks")


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def product_recommend(self, product_id: int, tenant_id: int | None = None) -> bool:
    """Compute the recommendations of a product that is ``recommending_products``.

    ``tenant_id`` only routes the task to its tenant's catalogue queue (config.celery.route_task)."""
    try:
        return recommendation_services.product_recommendations_compute(product_id=product_id)
    except TRANSIENT as exc:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=transient_backoff(self.request.retries)) from exc
        services.product_recommend_fail(product_id=product_id, reason=f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        # Not transient: retrying would fail the same way. Record it so the product is never stuck.
        log.exception("recommendations failed for product %s", product_id)
        services.product_recommend_fail(product_id=product_id, reason=f"{type(exc).__name__}: {exc}")
    return False


@shared_task(acks_late=True, **RETRY_TRANSIENT)
def product_category_suggest(product_ids: list[int] | int) -> int:
    """Suggest (and above the threshold assign) categories for products without a merchant-set category.

    Kept for tasks queued before writes named their tenant (an outbox row or a broker message from an
    older release); writes now queue ``category_suggestions_chunk``, which is routed to the tenant's queue."""
    ids = [product_ids] if isinstance(product_ids, int) else list(product_ids)
    by_tenant: dict[int, list[int]] = {}
    for pk, tenant_id in Product.objects.filter(pk__in=ids).values_list("pk", "tenant_id"):
        by_tenant.setdefault(tenant_id, []).append(pk)
    return sum(
        category_suggestions.category_suggestions_compute(tenant_id=t, product_ids=pks) for t, pks in by_tenant.items()
    )


@shared_task(acks_late=True, **RETRY_TRANSIENT)
def category_suggestions_chunk(tenant_id: int, product_ids: list[int]) -> int:
    """Fresh category suggestions for a chunk of one tenant's products (a refresh after taxonomy changes)."""
    return category_suggestions.category_suggestions_compute(tenant_id=tenant_id, product_ids=product_ids)


@shared_task(acks_late=True, **RETRY_TRANSIENT)
def category_suggestions_refresh(tenant_id: int) -> int:
    """The refresh that follows category writes: queues the chunks of the tenant's open products."""
    return category_suggestions.category_suggestions_refresh_pending(tenant_id=tenant_id)


@shared_task(acks_late=True, **RETRY_TRANSIENT)
def recommendations_chunk(tenant_id: int, product_ids: list[int]) -> int:
    """Recompute the stored recommendations of a chunk of a tenant's products (``recommend_all``)."""
    return recommendation_services.recommendations_chunk_compute(tenant_id=tenant_id, product_ids=product_ids)


@shared_task(acks_late=True, **RETRY_TRANSIENT)
def products_embed(tenant_id: int, product_ids: list[int]) -> int:
    """Embed synced products whose text changed since they were embedded, then tell every process's index.

    Safe to run twice: a product whose text is embedded already is skipped.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    done = index.embeddings_refresh(tenant=tenant, product_ids=product_ids)
    if done:
        index.products_changed(tenant, product_ids)
    return done


@shared_task(acks_late=True, **RETRY_TRANSIENT)
def webhook_process(delivery_id: int) -> str:
    """Apply one Shopify webhook delivery (catalog.webhooks); a processed delivery is never applied twice.

    Transient database errors are retried (RETRY_TRANSIENT); any other failure is recorded on the delivery
    (``failed``), so the sweeper does not send a delivery that can never succeed again every minute."""
    from catalog import webhooks

    try:
        return webhooks.delivery_process(delivery_id=delivery_id)
    except TRANSIENT:
        raise
    except Exception as exc:
        log.exception("webhook delivery %s failed", delivery_id)
        webhooks.delivery_failed(delivery_id=delivery_id, reason=f"{type(exc).__name__}: {exc}")
        return "failed"


@shared_task(acks_late=True, **RETRY_TRANSIENT)
def webhook_deliveries_sweep() -> tuple[int, int]:
    """Beat: queue again deliveries whose task was lost, and forget those past the de-duplication window."""
    from catalog import webhooks

    return webhooks.deliveries_sweep()
