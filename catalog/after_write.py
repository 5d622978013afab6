"""What follows a write to products: the one place that decides it, for every writer (Sortillus, the sync,
webhooks).

A writer announces what it changed, inside its transaction; this module queues the consequences. Tasks go
through the task outbox and are published once the write commits (core.outbox.enqueue), so a rolled-back
write announces nothing:

* embedding: products created or whose embedded text changed are (re-)embedded by a worker
  (``products_embed``; inline when tasks are eager). Embedding was ~40% of a sync create call's time;
* category suggestion: those of them without a category get one suggested (``category_suggestions_chunk``);
  a category the merchant set or a suggestion already made is not suggested again on a text change;
* the index: every process's product index is patched with the changed rows (or rebuilt when duplicate
  clusters moved, which can touch any product);
* re-sorts: products that became sold out or sellable again are announced to the apps that sort by it
  (the ``products_sellable_changed`` signal; merchandising queues a re-sort of their enabled collections).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db import transaction

from catalog import index
from catalog.models import Product
from catalog.signals import products_sellable_changed
from core.outbox import enqueue
from tenants.models import Tenant


def products_written(
    *,
    tenant: Tenant,
    created: Iterable[int] = (),
    text_changed: Iterable[int] = (),
    categorised: Collection[int] = (),
    changed: Iterable[int] = (),
    clusters_moved: bool = False,
    sellable_flipped: Iterable[int] = (),
) -> None:
    """Announce a write of the tenant's products (primary keys).

    ``created``: new products. ``text_changed``: existing products whose embedded text changed (name,
    description, brand, category). ``categorised``: those of both that have a category. ``changed``: any
    other product whose row or rows below it (variants, options, GTINs) changed. ``clusters_moved``:
    duplicate clusters moved. ``sellable_flipped``: products that became sold out or sellable again.
    """
    from catalog import tasks  # tasks import the services that call this

    to_embed = [*created, *text_changed]
    if to_embed:
        enqueue(tasks.products_embed, tenant.pk, to_embed)
    touched = set(changed) | set(to_embed)
    if touched or clusters_moved:
        ids = None if clusters_moved else sorted(touched)
        transaction.on_commit(lambda: index.products_changed(tenant, ids))
    to_suggest = [pk for pk in to_embed if pk not in categorised]
    if to_suggest:
        enqueue(tasks.category_suggestions_chunk, tenant.pk, to_suggest)  # routed to the tenant's queue
    flipped = sorted(sellable_flipped)
    if flipped:
        products_sellable_changed.send(sender=Product, tenant=tenant, product_ids=flipped)
