"""Celery tasks of the merchandising app: thin wrappers over services, ids in, idempotent."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task

from core.retry import MAX_RETRIES, TRANSIENT, transient_backoff
from merchandising import services

log = logging.getLogger("merchandising.tasks")


def _run_or_record_failure(task, run: Callable[[], str], failed: Callable[[str], None], what: str) -> str:
    """``run()`` for a bound task: a transient database error is retried with the one backoff
    (config.celery.transient_backoff); when the retries are spent, or on any other error, ``failed(reason)``
    records it so nothing is left "in progress", and the error is raised."""
    try:
        return run()
    except TRANSIENT as exc:
        if task.request.retries >= MAX_RETRIES:
            failed(f"database unavailable: {exc}")
            raise
        raise task.retry(exc=exc, countdown=transient_backoff(task.request.retries)) from exc
    except Exception as exc:
        log.exception("%s failed", what)
        failed(f"{type(exc).__name__}: {exc}")
        raise


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MAX_RETRIES)
def collection_sort(self, collection_pk: int) -> str:
    """Sort one collection by its recipe. Gone (removed meanwhile) and skipped (disabled, no recipe)
    end cleanly; busy (another sort is running) is tried again a few times, then ends."""
    outcome = _run_or_record_failure(
        self,
        lambda: services.collection_sort_run(collection_pk=collection_pk, task_id=self.request.id or ""),
        lambda reason: services.collection_sort_failed(collection_pk=collection_pk, reason=reason),
        f"sort of collection {collection_pk}",
    )
    if outcome == "busy" and not self.request.is_eager and self.request.retries < MAX_RETRIES:
        # another sort of this collection is under way and may have read its data before this
        # request: try again once it is likely done, so the request is not lost
        raise self.retry(countdown=10 * (self.request.retries + 1))
    log.info("collection %s sort: %s", collection_pk, outcome)
    return outcome


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MAX_RETRIES)
def product_options_sort(self, product_pk: int) -> str:
    """Re-sort the option values of one product by its saved rules."""
    return _run_or_record_failure(
        self,
        lambda: services.product_options_sort_run(product_pk=product_pk),
        lambda reason: services.product_options_sort_failed(product_pk=product_pk, reason=reason),
        f"option sort of product {product_pk}",
    )


@shared_task(acks_late=True, ignore_result=True)
def collections_resort_enabled() -> int:
    """Periodic (beat): queue a sort of every enabled collection with a recipe."""
    return services.collections_resort_enabled()


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def store_writeback_send(self, writeback_pk: int) -> str:
    """Write one sort result back to the Shopify store (merchandising.store_writeback).

    Transient failures (5xx, timeouts, a long throttle) are retried with backoff,
    SHOPIFY_WRITEBACK_BACKOFF_SECONDS x 2^n (or the store's Retry-After when longer), at most
    SHOPIFY_WRITEBACK_MAX_RETRIES times; then, like a permanent failure, the writeback ends "failed" with
    the reason. A writeback waiting behind another of the same collection is tried again shortly, and is
    queued again when that one ends. Run
    eagerly (the embedded mode, where Celery's retry cannot re-queue), the retries happen inline."""
    import time

    from django.conf import settings

    from merchandising import shopify_admin, store_writeback

    retries, limit = self.request.retries, settings.SHOPIFY_WRITEBACK_MAX_RETRIES
    while True:
        try:
            outcome = store_writeback.writeback_send(writeback_pk=writeback_pk, task_id=self.request.id or "")
        except (shopify_admin.Transient, *TRANSIENT) as exc:
            if retries >= limit:
                store_writeback.writeback_failed(
                    writeback_pk=writeback_pk, reason=f"gave up after {retries + 1} attempts: {exc}"
                )
                store_writeback.writeback_queue_next(writeback_pk=writeback_pk)
                return "failed"
            countdown = max(
                getattr(exc, "retry_after", None) or 0, settings.SHOPIFY_WRITEBACK_BACKOFF_SECONDS * 2**retries
            )
            if not self.request.is_eager:
                raise self.retry(exc=exc, countdown=countdown, max_retries=limit) from exc
            time.sleep(countdown)
            retries += 1
            continue
        except Exception as exc:
            log.exception("writeback %s failed", writeback_pk)
            store_writeback.writeback_failed(writeback_pk=writeback_pk, reason=f"{type(exc).__name__}: {exc}")
            store_writeback.writeback_queue_next(writeback_pk=writeback_pk)
            raise
        break
    if outcome in ("done", "failed", "skipped"):
        store_writeback.writeback_queue_next(writeback_pk=writeback_pk)
    if outcome == "busy" and not self.request.is_eager and retries < limit:
        raise self.retry(countdown=settings.SHOPIFY_WRITEBACK_BACKOFF_SECONDS * 2**retries + 5, max_retries=limit)
    log.info("writeback %s: %s", writeback_pk, outcome)
    return outcome
