"""Writing sort results back to the Shopify store (issue 16; docs/shopify.md "Sort orders written back").

After a collection's sort run commits, ``collection_writeback_queue`` records a ``StoreWriteback`` and queues
the task; the task (``writeback_send``) sets the collection's sort order (``MANUAL`` for a recipe sort and the
``manual`` revert, the store's own order for the other reverts) through ``collectionUpdate``, then sends the
fewest-moves plan (``sorting.reorder_moves``) through ``collectionReorderProducts`` in calls of at most 250
moves, waiting for each call's job before the next (the moves of a call are positions in the order the
previous calls left). After an option sort, ``productOptionsReorder`` gets every option of the product in
its order, each with its values in their order.

With no connection, or one without an access token, nothing is recorded and nothing is sent: the order
stays readable through get_collection as before.

Safe to run twice: a writeback that is done, failed, skipped or superseded is not sent again; progress
(the sort order set, the moves the store confirmed, the job waited for) is saved after each step, so a
retried task resumes where the last one stopped and never sends a confirmed move twice.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Product, ProductOption
from core.outbox import enqueue
from merchandising import shopify_admin, sorting
from merchandising.models import Collection, RevertSorting, SortRun, StoreWriteback, WritebackKind, WritebackState
from tenants.models import ShopConnection

log = logging.getLogger("merchandising.writeback")

# Shopify takes at most 250 moves per collectionReorderProducts call.
MOVES_PER_CALL = 250
# how many times one reorder job is polled before the task gives up for now (and polls it again on retry)
MAX_POLLS = 300
# a "sending" claim older than this is a dead worker's and may be taken over
SENDING_STALE_AFTER = timedelta(minutes=15)

# Dynasort revert orders -> Shopify's CollectionSortOrder
SHOPIFY_SORT_ORDER = {
    RevertSorting.MANUAL: "MANUAL",
    RevertSorting.BEST_SELLING: "BEST_SELLING",
    RevertSorting.ALPHA_ASC: "ALPHA_ASC",
    RevertSorting.ALPHA_DESC: "ALPHA_DESC",
    RevertSorting.PRICE_ASC: "PRICE_ASC",
    RevertSorting.PRICE_DESC: "PRICE_DESC",
    RevertSorting.CREATED_DESC: "CREATED_DESC",
    RevertSorting.CREATED_ASC: "CREATED",
}
FINAL = (WritebackState.DONE, WritebackState.FAILED, WritebackState.SKIPPED, WritebackState.SUPERSEDED)


def _ready_connection(tenant_id: int) -> ShopConnection | None:
    """The tenant's connection when it can write back (has an access token), else None."""
    return ShopConnection.objects.filter(tenant_id=tenant_id).exclude(access_token="").first()


# ---- queueing (inside the sort's transaction) --------------------------------------------------------------


def collection_writeback_queue(
    *, run: SortRun, collection: Collection, current: list[int], new: list[int]
) -> StoreWriteback | None:
    """Record the writeback of a sort run's order and queue it after commit; None when the shop has no
    access token (nothing to do). ``current`` and ``new`` are internal product ids."""
    if _ready_connection(collection.tenant_id) is None:
        return None
    from merchandising import tasks  # tasks import this module

    external = dict(Product.objects.filter(pk__in=new).values_list("pk", "external_id"))
    base = [external[pk] for pk in current if pk in external]
    target = [external[pk] for pk in new]
    sort_order = "MANUAL" if run.kind == SortRun.Kind.RECIPE else SHOPIFY_SORT_ORDER[run.method]
    # one writeback waits per collection: this newer order replaces it. Nothing of it was sent, so the
    # store still has the order that one started from.
    waiting = (
        StoreWriteback.objects.select_for_update()
        .filter(collection=collection, state=WritebackState.PENDING)
        .order_by("-id")
        .first()
    )
    if waiting is not None:
        base = waiting.base_order
        waiting.state = WritebackState.SUPERSEDED
        waiting.finished_at = timezone.now()
        waiting.error = ""
        waiting.save(update_fields=["state", "finished_at", "error", "updated_at"])
    writeback = StoreWriteback.objects.create(
        tenant_id=collection.tenant_id,
        kind=WritebackKind.COLLECTION,
        sort_run=run,
        collection=collection,
        sort_order=sort_order,
        base_order=base,
        target_order=target,
        move_count=len(_moves(base, target)) if sort_order == "MANUAL" else 0,
    )
    enqueue(tasks.store_writeback_send, writeback.pk)
    return writeback


def product_options_writeback_queue(*, product: Product) -> StoreWriteback | None:
    """Record the writeback of a product's option value order and queue it after commit (None without a
    token). Every option goes, in its position order: Shopify numbers the options in the order given."""
    if _ready_connection(product.tenant_id) is None:
        return None
    from merchandising import tasks

    options = [
        {"name": o.name, "values": [{"name": str(v)} for v in (o.values or [])]}
        for o in ProductOption.objects.filter(product=product).order_by("position")
    ]
    StoreWriteback.objects.select_for_update().filter(product=product, state=WritebackState.PENDING).update(
        state=WritebackState.SUPERSEDED, finished_at=timezone.now(), updated_at=timezone.now()
    )
    writeback = StoreWriteback.objects.create(
        tenant_id=product.tenant_id, kind=WritebackKind.PRODUCT_OPTIONS, product=product, options=options
    )
    enqueue(tasks.store_writeback_send, writeback.pk)
    return writeback


# ---- sending (the task's body) ------------------------------------------------------------------------------


def _moves(base: list[int], target: list[int]) -> list[tuple[int, int]]:
    """The fewest moves from the store's order to the target, over the target's products: products the base
    lacks are taken as last (where Shopify adds them), products gone from the collection are left out."""
    wanted = set(target)
    known = [pid for pid in base if pid in wanted]
    seen = set(known)
    return sorting.reorder_moves(known + [pid for pid in target if pid not in seen], target)


def _claim(writeback_pk: int, task_id: str) -> StoreWriteback | str:
    """Take the writeback for this task, or say why not (its final state, "busy", "gone")."""
    now = timezone.now()
    with transaction.atomic():
        wb = StoreWriteback.objects.select_for_update().filter(pk=writeback_pk).first()
        if wb is None:
            return "gone"
        if wb.state in FINAL:
            return wb.state
        if (
            wb.state == WritebackState.SENDING
            and wb.task_id not in ("", task_id[:64])
            and wb.updated_at > now - SENDING_STALE_AFTER
        ):
            return "busy"
        target = {"collection_id": wb.collection_id} if wb.collection_id else {"product_id": wb.product_id}
        if (
            StoreWriteback.objects.filter(**target, state=WritebackState.SENDING, id__lt=wb.pk)
            .filter(updated_at__gt=now - SENDING_STALE_AFTER)
            .exists()
        ):
            return "busy"  # an older one is still being sent: this one starts from where it leaves the store
        if wb.state == WritebackState.PENDING and wb.kind == WritebackKind.COLLECTION:
            wb.base_order = _store_order_now(wb)
            if wb.sort_order == "MANUAL":
                wb.move_count = len(_moves(wb.base_order, wb.target_order))
        wb.state = WritebackState.SENDING
        wb.task_id = task_id[:64]
        wb.attempts += 1
        wb.started_at = wb.started_at or now
        wb.save()
        return wb


def _store_order_now(wb: StoreWriteback) -> list[int]:
    """The store's order as far as the platform knows when this writeback starts: the order its run started
    from, unless the previous writeback of the collection stopped part way (then its base with the moves the
    store confirmed)."""
    previous = (
        StoreWriteback.objects.filter(collection_id=wb.collection_id, id__lt=wb.pk, started_at__isnull=False)
        .exclude(state=WritebackState.SUPERSEDED)
        .order_by("-id")
        .first()
    )
    if previous is None or previous.state != WritebackState.FAILED or previous.sort_order != "MANUAL":
        return wb.base_order
    confirmed = _moves(previous.base_order, previous.target_order)[: previous.moves_done]
    wanted = set(previous.target_order)
    known = [pid for pid in previous.base_order if pid in wanted]
    start = known + [pid for pid in previous.target_order if pid not in set(known)]
    return sorting.apply_moves(start, confirmed)


def writeback_send(*, writeback_pk: int, task_id: str = "") -> str:
    """Send one writeback to the store; returns the outcome (done, failed, skipped, busy, or the final state it
    already had). Raises ``shopify_admin.Transient`` for the task to retry later (progress kept)."""
    claimed = _claim(writeback_pk, task_id)
    if isinstance(claimed, str):
        return claimed
    wb = claimed
    connection = _ready_connection(wb.tenant_id)
    token = None
    if connection is not None:
        from tenants.services import shop_connection_access_token

        token = shop_connection_access_token(connection)
    if connection is None or not token:
        # disconnected (or the token removed) since the sort: nothing to send, nothing failed
        _finish(wb, WritebackState.SKIPPED, "")
        return "skipped"
    client = shopify_admin.AdminClient(
        shop_domain=connection.shop_domain, access_token=token, api_version=connection.effective_api_version
    )
    try:
        if wb.kind == WritebackKind.COLLECTION:
            _send_collection(wb, client)
        else:
            _send_product_options(wb, client)
    except shopify_admin.Permanent as exc:
        _record_stats(wb, client)
        _finish(wb, WritebackState.FAILED, str(exc))
        log.warning("writeback %s failed: %s", wb.pk, exc)
        return "failed"
    except shopify_admin.Transient as exc:
        _record_stats(wb, client)
        wb.task_id = ""  # released: the retry (or any later task) takes it over
        wb.error = f"retrying after: {exc}"[:2000]
        wb.save(update_fields=["task_id", "error", "requests", "throttled", "updated_at"])
        raise
    _record_stats(wb, client)
    _finish(wb, WritebackState.DONE, "")
    return "done"


def writeback_queue_next(*, writeback_pk: int) -> int | None:
    """Once a writeback has ended, queue the one that waited behind it (same collection or product), if any:
    a writeback that found an older one still sending ended its task as "busy" and is picked up here."""
    wb = StoreWriteback.objects.filter(pk=writeback_pk).values("collection_id", "product_id", "state").first()
    if wb is None or wb["state"] not in FINAL:
        return None
    target = {"collection_id": wb["collection_id"]} if wb["collection_id"] else {"product_id": wb["product_id"]}
    waiting = (
        StoreWriteback.objects.filter(**target, state=WritebackState.PENDING, id__gt=writeback_pk)
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is not None:
        from merchandising import tasks

        enqueue(tasks.store_writeback_send, waiting)
    return waiting


def writeback_failed(*, writeback_pk: int, reason: str) -> None:
    """A writeback that failed for good (retries exhausted, an unexpected error) shows why, never "sending"."""
    StoreWriteback.objects.filter(pk=writeback_pk).exclude(state__in=FINAL).update(
        state=WritebackState.FAILED,
        error=(reason or "failed")[:2000],
        task_id="",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _finish(wb: StoreWriteback, state: str, error: str) -> None:
    wb.state = state
    wb.error = error[:2000]
    wb.task_id = ""
    wb.finished_at = timezone.now()
    wb.save()


def _record_stats(wb: StoreWriteback, client: shopify_admin.AdminClient) -> None:
    wb.requests += client.stats.requests
    wb.throttled += client.stats.throttled
    client.stats.requests = client.stats.throttled = 0


def _user_errors(payload: dict[str, Any] | None) -> None:
    errors = (payload or {}).get("userErrors") or []
    if errors:
        shown = "; ".join(
            f"{'.'.join(str(f) for f in (e.get('field') or []))}: {e.get('message')}".lstrip(": ") for e in errors[:5]
        )
        raise shopify_admin.Permanent(f"Shopify refused the change: {shown}")


def _send_collection(wb: StoreWriteback, client: shopify_admin.AdminClient) -> None:
    collection_gid = shopify_admin.gid("Collection", wb.collection.external_id)
    if not wb.sort_order_sent:
        data = client.execute(
            shopify_admin.COLLECTION_UPDATE, {"input": {"id": collection_gid, "sortOrder": wb.sort_order}}
        )
        _user_errors(data.get("collectionUpdate"))
        wb.sort_order_sent = True
        wb.calls += 1
        _record_stats(wb, client)
        wb.save()
    if wb.sort_order != "MANUAL":
        return  # the store sorts the collection itself
    moves = _moves(wb.base_order, wb.target_order)
    wb.move_count = len(moves)
    if wb.job_ids and not wb.job_ids[-1].get("done"):
        _await_job(wb, client)  # a job sent by an earlier attempt: wait for it, never send its moves twice
    while wb.moves_done < len(moves):
        chunk = moves[wb.moves_done : wb.moves_done + MOVES_PER_CALL]
        data = client.execute(
            shopify_admin.COLLECTION_REORDER,
            {
                "id": collection_gid,
                "moves": [
                    {"id": shopify_admin.gid("Product", pid), "newPosition": str(position)} for pid, position in chunk
                ],
            },
        )
        payload = data.get("collectionReorderProducts")
        _user_errors(payload)
        job = (payload or {}).get("job") or {}
        wb.calls += 1
        wb.job_ids = [*wb.job_ids, {"id": job.get("id"), "moves": len(chunk), "done": bool(job.get("done"))}]
        _record_stats(wb, client)
        wb.save()
        _await_job(wb, client)


def _await_job(wb: StoreWriteback, client: shopify_admin.AdminClient) -> None:
    """Poll the last reorder job until done, then count its moves as confirmed (saved at once)."""
    last = dict(wb.job_ids[-1])
    polls = 0
    while not last.get("done"):
        if not last.get("id"):
            raise shopify_admin.Permanent("Shopify accepted the reorder without a job to follow")
        if polls >= MAX_POLLS:
            raise shopify_admin.Transient(f"reorder job {last['id']} not done after {polls} polls")
        time.sleep(settings.SHOPIFY_WRITEBACK_POLL_SECONDS)
        data = client.execute(shopify_admin.JOB, {"id": last["id"]})
        polls += 1
        job = data.get("job")
        if job is None:
            raise shopify_admin.Permanent(f"Shopify knows no reorder job {last['id']}")
        last["done"] = bool(job.get("done"))
    wb.job_ids = [*wb.job_ids[:-1], last]
    wb.moves_done = min(wb.move_count, wb.moves_done + int(last.get("moves") or 0))
    _record_stats(wb, client)
    wb.save()


def _send_product_options(wb: StoreWriteback, client: shopify_admin.AdminClient) -> None:
    data = client.execute(
        shopify_admin.PRODUCT_OPTIONS_REORDER,
        {"productId": shopify_admin.gid("Product", wb.product.external_id), "options": wb.options},
    )
    _user_errors(data.get("productOptionsReorder"))
    wb.calls += 1
