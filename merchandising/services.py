"""Writes of the merchandising app: keyword-only, tenant-explicit, one transaction each."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from apikeys.exceptions import NotFound, ValidationFailed
from catalog.models import Product, ProductOption
from core import bulk
from core.outbox import enqueue
from merchandising import option_sorting, selectors, sorting, store_writeback
from merchandising.models import (
    Collection,
    CollectionProduct,
    OptionSortRule,
    ProductSetting,
    Recipe,
    RevertSorting,
    SortRun,
    SortState,
    SortType,
)
from tenants.models import Tenant

log = logging.getLogger("merchandising")

# Every new shop starts with these (name, days, weights); more are made in the admin.
DEFAULT_RECIPES: list[tuple[str, str, dict[str, float]]] = [
    ("Best sellers (30 days)", "30", {"sales": 70, "revenue": 30}),
    ("Trending (7 days)", "7", {"sales": 60, "revenue": 20, "newness": 20}),
    ("New arrivals", "30", {"newness": 80, "sales": 20}),
    ("High margin", "90", {"margin": 60, "revenue": 40}),
    ("Clearance", "90", {"inventory": 50, "discount": 50}),
]


@transaction.atomic
def recipes_ensure_defaults(*, tenant: Tenant) -> int:
    """Create the starter recipes a tenant lacks (by name); idempotent. Returns how many were created."""
    existing = set(Recipe.objects.for_tenant(tenant).values_list("name", flat=True))
    created = [
        Recipe(tenant=tenant, name=name, days=days, **{f"weight_{k}": v for k, v in weights.items()})
        for name, days, weights in DEFAULT_RECIPES
        if name not in existing
    ]
    Recipe.objects.bulk_create(created, ignore_conflicts=True)
    return len(created)


# ---- platform sync --------------------------------------------------------------------------


@dataclass
class SyncResult:
    id: Any
    status: str  # created, updated, error
    errors: dict[str, list[str]] | None = None


def collections_sync(*, tenant: Tenant, items: list[dict]) -> list[SyncResult]:
    """Upsert collections and their membership (product order as the shop has it), item by item.

    Each item is applied in its own savepoint: an item with unknown product ids is
    refused as a whole and the others still apply. Membership is replaced by the
    given ``product_ids`` in their order; positions follow that order.
    """
    results = []
    for item in items:
        with transaction.atomic():
            results.append(_collection_sync_one(tenant=tenant, item=item))
    return results


def _collection_sync_one(*, tenant: Tenant, item: dict) -> SyncResult:
    ids = list(dict.fromkeys(item.get("product_ids") or []))
    products = dict(Product.objects.for_tenant(tenant).filter(external_id__in=ids).values_list("external_id", "pk"))
    missing = [pid for pid in ids if pid not in products]
    if missing:
        shown = ", ".join(str(m) for m in missing[:20])
        return SyncResult(item["id"], "error", {"product_ids": [f"Unknown product ids: {shown}"]})
    collection, created = Collection.objects.select_for_update().get_or_create(
        tenant=tenant,
        external_id=item["id"],
        defaults={
            "title": item["title"],
            "handle": item.get("handle", ""),
            "shop_sort_order": item.get("sort_order", ""),
        },
    )
    if not created:
        fields = {
            "title": item["title"],
            "handle": item.get("handle", "") or "",
            "shop_sort_order": item.get("sort_order", "") or "",
        }
        if collection.last_sorted_at is None:
            # never sorted here: the shop's order is still the merchant's own
            fields["manual_order"] = None
        changed = [name for name, value in fields.items() if getattr(collection, name) != value]
        # A sync job resends unchanged collections all the time: only a real change is written.
        if changed:
            for name in changed:
                setattr(collection, name, fields[name])
            collection.save(update_fields=[*changed, "updated_at"])
    existing = {m.product_id: m for m in CollectionProduct.objects.filter(collection=collection)}
    wanted = [products[pid] for pid in ids]
    wanted_set = set(wanted)
    CollectionProduct.objects.filter(collection=collection).exclude(product_id__in=wanted_set).delete()
    to_update, to_create = [], []
    for position, product_pk in enumerate(wanted):
        member = existing.get(product_pk)
        if member is None:
            to_create.append(
                CollectionProduct(tenant=tenant, collection=collection, product_id=product_pk, position=position)
            )
        elif member.position != position:
            member.position = position
            to_update.append(member)
    CollectionProduct.objects.bulk_update(to_update, ["position"], batch_size=1000)
    CollectionProduct.objects.bulk_create(to_create, batch_size=1000)
    return SyncResult(item["id"], "created" if created else "updated")


# ---- collection settings --------------------------------------------------------------------


@transaction.atomic
def collection_enable(*, tenant: Tenant, collection_id: int) -> Collection:
    """Turn Dynasort sorting on for a collection."""
    collection = selectors.collection_get(tenant=tenant, collection_id=collection_id, for_update=True)
    collection.enabled = True
    collection.save(update_fields=["enabled", "updated_at"])
    return collection


@transaction.atomic
def collection_disable(*, tenant: Tenant, collection_id: int) -> tuple[Collection, SortRun | None]:
    """Turn sorting off; if a revert order is set, the collection is put in that order at once."""
    collection = selectors.collection_get(tenant=tenant, collection_id=collection_id, for_update=True)
    return _disable(collection)


def _disable(collection: Collection) -> tuple[Collection, SortRun | None]:
    collection.enabled = False
    collection.save(update_fields=["enabled", "updated_at"])
    run = _revert(collection) if collection.revert_sorting else None
    return collection, run


@transaction.atomic
def collection_update(
    *, tenant: Tenant, collection_id: int, metrics_id: int, revert_sorting: str | None = None
) -> Collection:
    """Assign a recipe and, when given, the revert sort order."""
    recipe = selectors.recipe_get(tenant=tenant, recipe_id=metrics_id)
    collection = selectors.collection_get(tenant=tenant, collection_id=collection_id, for_update=True)
    collection.recipe = recipe
    if revert_sorting is not None:
        collection.revert_sorting = revert_sorting
    collection.save(update_fields=["recipe", "revert_sorting", "updated_at"])
    return collection


@transaction.atomic
def collections_bulk_toggle(
    *, tenant: Tenant, collection_ids: list[int], status: int
) -> list[tuple[Collection, SortRun | None]]:
    """Enable (1) or disable (0) all the collections, or none if any id is unknown."""
    collections = selectors.collections_get_many(tenant=tenant, collection_ids=collection_ids, for_update=True)
    if status == 1:
        Collection.objects.filter(pk__in=[c.pk for c in collections]).update(enabled=True, updated_at=timezone.now())
        for c in collections:
            c.enabled = True
        return [(c, None) for c in collections]
    return [_disable(c) for c in collections]


@transaction.atomic
def collections_bulk_assign_recipe(
    *, tenant: Tenant, collection_ids: list[int], metrics_id: int, revert_sorting: str | None = None
) -> list[Collection]:
    """Assign one recipe (and optionally a revert order) to all the collections, or to none."""
    recipe = selectors.recipe_get(tenant=tenant, recipe_id=metrics_id)
    collections = selectors.collections_get_many(tenant=tenant, collection_ids=collection_ids, for_update=True)
    fields: dict[str, Any] = {"recipe": recipe, "updated_at": timezone.now()}
    if revert_sorting is not None:
        fields["revert_sorting"] = revert_sorting
    Collection.objects.filter(pk__in=[c.pk for c in collections]).update(**fields)
    for c in collections:
        c.recipe = recipe
        if revert_sorting is not None:
            c.revert_sorting = revert_sorting
    return collections


@transaction.atomic
def collection_sort_request(*, tenant: Tenant, collection_id: int) -> Collection:
    """Queue a recipe sort (the task runs after commit); the collection must be enabled with a recipe."""
    collection = selectors.collection_get(tenant=tenant, collection_id=collection_id, for_update=True)
    if not collection.enabled or collection.recipe_id is None:
        raise ValidationFailed(
            "The collection must be enabled with a recipe assigned before it can be sorted",
            errors={"collection_id": ["not enabled" if not collection.enabled else "no recipe assigned"]},
        )
    _queue_sort(collection)
    collection.recipe = Recipe.objects.get(pk=collection.recipe_id)
    return collection


@dataclass(frozen=True)
class SortPlan:
    """A recipe sort computed but not written: what ``sort_collection`` with ``dry_run`` shows."""

    collection: Collection
    recipe: Recipe
    current: list[int]  # internal product ids, current order
    new: list[int]  # internal product ids, proposed order
    scores: dict[int, sorting.Scored]
    boosts: dict[int, int]
    moved: list[int]
    plan_id: str


def _plan_id(collection: Collection, fingerprint: str) -> str:
    """Bound to the shop, the collection and the fingerprint of the data; signed, so never forged."""
    message = f"{collection.tenant_id}:{collection.pk}:{fingerprint}".encode()
    key = hashlib.sha256(b"merchandising.sort-plan:" + settings.SECRET_KEY.encode()).digest()
    return "plan_" + hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def _sort_plan(collection: Collection) -> SortPlan:
    if collection.recipe_id is None:
        raise ValidationFailed(
            "The collection needs a recipe assigned before a sort can be previewed",
            errors={"collection_id": ["no recipe assigned"]},
        )
    recipe = Recipe.objects.get(pk=collection.recipe_id)
    current, facts = selectors.collection_facts(collection=collection, days=recipe.days)
    new, scored = sorting.recipe_order(facts, recipe.weights)
    fingerprint = sorting.plan_fingerprint(
        recipe_id=recipe.pk, days=recipe.days, weights=recipe.weights, current=current, products=facts, new=new
    )
    return SortPlan(
        collection=collection,
        recipe=recipe,
        current=current,
        new=new,
        scores={s.product_id: s for s in scored},
        boosts={f.product_id: f.boost for f in facts},
        moved=sorting.moved_items(current, new),
        plan_id=_plan_id(collection, fingerprint),
    )


def collection_sort_preview(*, tenant: Tenant, collection_id: int) -> SortPlan:
    """The order a recipe sort would write now, with a ``plan_id`` bound to the data it came from.

    Nothing is written. The collection needs a recipe; it need not be enabled (applying does).
    """
    collection = selectors.collection_get(tenant=tenant, collection_id=collection_id)
    return _sort_plan(collection)


@transaction.atomic
def collection_sort_apply(*, tenant: Tenant, collection_id: int, plan_id: str) -> tuple[Collection, SortRun]:
    """Write exactly the order previewed as ``plan_id``, now, or refuse if anything it was computed
    from changed since (membership or order, metrics, boosts, the recipe or its assignment)."""
    collection = selectors.collection_get(tenant=tenant, collection_id=collection_id, for_update=True)
    if not collection.enabled or collection.recipe_id is None:
        raise ValidationFailed(
            "The collection must be enabled with a recipe assigned before it can be sorted",
            errors={"collection_id": ["not enabled" if not collection.enabled else "no recipe assigned"]},
        )
    plan = _sort_plan(collection)
    if not hmac.compare_digest(plan.plan_id, plan_id):
        raise ValidationFailed(
            "The collection's data changed since this plan was previewed (or the plan_id is not one of this "
            "collection's); preview again with dry_run",
            errors={"plan_id": ["stale or unknown plan"]},
        )
    if collection.manual_order is None:
        external = dict(Product.objects.filter(pk__in=plan.current).values_list("pk", "external_id"))
        collection.manual_order = [external[pk] for pk in plan.current]
    run = _write_order(
        collection,
        current=plan.current,
        new=plan.new,
        scores=plan.scores,
        kind=SortRun.Kind.RECIPE,
        method=plan.recipe.name,
        recipe=plan.recipe,
        plan_id=plan_id,
    )
    collection.recipe = plan.recipe
    return collection, run


def _queue_sort(collection: Collection) -> None:
    from merchandising import tasks  # tasks import services

    collection.sort_requested_at = timezone.now()
    if collection.sort_state != SortState.RUNNING:
        collection.sort_state = SortState.QUEUED
    collection.sort_error = ""
    collection.save(update_fields=["sort_state", "sort_requested_at", "sort_error", "updated_at"])
    pk = collection.pk
    enqueue(tasks.collection_sort, pk)


@transaction.atomic
def collection_revert(*, tenant: Tenant, collection_id: int) -> SortRun:
    """Put the collection in its configured revert order now."""
    collection = selectors.collection_get(tenant=tenant, collection_id=collection_id, for_update=True)
    if not collection.revert_sorting:
        raise ValidationFailed(
            "The collection has no revert sort order; set one with update_collection",
            errors={"revert_sorting": ["not set"]},
        )
    return _revert(collection)


def _revert(collection: Collection) -> SortRun:
    current, facts = selectors.collection_facts(collection=collection, days="all")
    new = sorting.revert_order(facts, collection.revert_sorting, _manual_snapshot_ids(collection))
    return _write_order(
        collection,
        current=current,
        new=new,
        scores=None,
        kind=SortRun.Kind.REVERT,
        method=collection.revert_sorting,
        recipe=None,
    )


def _manual_snapshot_ids(collection: Collection) -> list[int] | None:
    """The snapshot is kept as external ids (stable across re-syncs); the engine works on internal ids."""
    if collection.manual_order is None:
        return None
    mapping = dict(
        Product.objects.filter(tenant_id=collection.tenant_id, external_id__in=collection.manual_order).values_list(
            "external_id", "pk"
        )
    )
    return [mapping[e] for e in collection.manual_order if e in mapping]


# ---- the sort -------------------------------------------------------------------------------


# A "running" claim older than this is a crashed worker's and may be taken over.
SORT_STALE_AFTER = timedelta(minutes=15)


def _claimable(now: datetime, task_id: str) -> Q:
    """Collections a sort may claim: not running, or running for too long, or claimed by this very
    task before (the broker redelivers a task whose worker died; it keeps its id)."""
    q = ~Q(sort_state=SortState.RUNNING) | Q(sort_started_at__lt=now - SORT_STALE_AFTER)
    if task_id:
        q |= Q(sort_task_id=task_id)
    return q


def collection_sort_run(*, collection_pk: int, task_id: str = "") -> str:
    """Sort one collection by its recipe (the task's body). Returns the outcome.

    Two sorts of one collection never run at once, in any process: a sort first claims
    the collection with one conditional UPDATE (to ``running``); a second sort finds it
    running and ends as ``busy``. Metrics are read and scored without holding a lock, so
    API calls on the collection never wait for a long sort; the positions are written in
    one transaction under the collection's row lock, after checking that the membership
    did not change meanwhile (if it did, it is scored again under the lock). A collection
    removed meanwhile ends as ``gone``; one disabled or without a recipe as ``skipped``.
    """
    now = timezone.now()
    claimed = (
        Collection.objects.filter(pk=collection_pk)
        .filter(_claimable(now, task_id))
        .update(sort_state=SortState.RUNNING, sort_started_at=now, sort_task_id=task_id[:64])
    )
    if not claimed:
        return "busy" if Collection.objects.filter(pk=collection_pk).exists() else "gone"
    collection = Collection.objects.filter(pk=collection_pk).select_related("recipe").first()
    if collection is None:
        return "gone"
    recipe = collection.recipe
    if not collection.enabled or recipe is None:
        Collection.objects.filter(pk=collection_pk).update(sort_state=SortState.IDLE, updated_at=timezone.now())
        return "skipped"
    current, facts = selectors.collection_facts(collection=collection, days=recipe.days)
    new, scored = sorting.recipe_order(facts, recipe.weights)
    with transaction.atomic():
        collection = Collection.objects.select_for_update().filter(pk=collection_pk).first()
        if collection is None:
            return "gone"
        if not collection.enabled or collection.recipe_id != recipe.pk:
            collection.sort_state = SortState.IDLE
            collection.save(update_fields=["sort_state", "updated_at"])
            return "skipped"
        members = list(
            CollectionProduct.objects.filter(collection=collection)
            .order_by("position", "id")
            .values_list("product_id", flat=True)
        )
        if members != current:
            current, facts = selectors.collection_facts(collection=collection, days=recipe.days)
            new, scored = sorting.recipe_order(facts, recipe.weights)
        if collection.manual_order is None:
            external = dict(Product.objects.filter(pk__in=current).values_list("pk", "external_id"))
            collection.manual_order = [external[pk] for pk in current]
        _write_order(
            collection,
            current=current,
            new=new,
            scores={s.product_id: s for s in scored},
            kind=SortRun.Kind.RECIPE,
            method=recipe.name,
            recipe=recipe,
        )
    return "done"


def collection_sort_failed(*, collection_pk: int, reason: str) -> None:
    """A sort that failed for good leaves a visible error state, never "queued"/"running"."""
    Collection.objects.filter(pk=collection_pk).update(
        sort_state=SortState.ERROR, sort_error=reason[:2000], updated_at=timezone.now()
    )


def _write_order(
    collection: Collection,
    *,
    current: list[int],
    new: list[int],
    scores: dict[int, sorting.Scored] | None,
    kind: str,
    method: str,
    recipe: Recipe | None,
    plan_id: str = "",
) -> SortRun:
    now = timezone.now()
    moved = sorting.moved_items(current, new)
    position = {pid: i for i, pid in enumerate(new)}
    # a revert clears the scores too: the order no longer follows them
    _store_positions(collection, position, scores)
    external = dict(Product.objects.filter(pk__in=moved[:250]).values_list("pk", "external_id"))
    run = SortRun.objects.create(
        tenant_id=collection.tenant_id,
        collection=collection,
        collection_external_id=collection.external_id,
        kind=kind,
        recipe=recipe,
        method=method,
        status=SortRun.Status.DONE,
        started_at=now,
        finished_at=timezone.now(),
        product_count=len(new),
        moves=len(moved),
        moved_products=[external[pk] for pk in moved[:250] if pk in external],
        message=_explanation(kind=kind, method=method, recipe=recipe, new=new, moves=len(moved), scores=scores)
        + (f" Applied from the previewed plan {plan_id}." if plan_id else ""),
    )
    # the store gets this order too, after commit, when the shop gave an Admin API access token
    store_writeback.collection_writeback_queue(run=run, collection=collection, current=current, new=new)
    if kind == SortRun.Kind.RECIPE and not (plan_id and collection.sort_state == SortState.RUNNING):
        # the recipe sort ends its own claim (an applied plan leaves a sort under way its claim);
        # a revert leaves the state of any sort under way alone
        collection.sort_state = SortState.IDLE
        collection.sort_error = ""
    collection.last_sorted_at = now
    collection.last_sort_moves = len(moved)
    if kind == SortRun.Kind.RECIPE:
        collection.last_sort_recipe = recipe
    collection.save(
        update_fields=[
            "sort_state",
            "sort_error",
            "last_sorted_at",
            "last_sort_moves",
            "last_sort_recipe",
            "manual_order",
            "updated_at",
        ]
    )
    return run


REVERT_MEANINGS = {
    "manual": "the order the merchant had before Dynasort first sorted it (products added since follow)",
    "best-selling": "most units sold of all time first",
    "alpha-asc": "title A to Z",
    "alpha-desc": "title Z to A",
    "price-asc": "lowest price first",
    "price-desc": "highest price first",
    "created-desc": "newest first",
    "created-asc": "oldest first",
}


def _explanation(
    *, kind: str, method: str, recipe: Recipe | None, new: list[int], moves: int, scores: dict | None
) -> str:
    """Why the collection is in the order a sort wrote, in words (kept on the sort run)."""
    moved = f"{moves} of {len(new)} products moved (fewest moves)."
    if kind != SortRun.Kind.RECIPE or recipe is None:
        return f"Reverted to {method}: {REVERT_MEANINGS.get(method, method)}. {moved}"
    weights = ", ".join(f"{k} {v:g}" for k, v in recipe.weights.items() if v > 0) or "no weights"
    window = "all time" if recipe.days == "all" else f"the last {recipe.days} days"
    boosted = sum(1 for s in (scores or {}).values() if round(s.score - sum(s.points.values()), 4) != 0)
    sold_out = sum(1 for s in (scores or {}).values() if s.sold_out)
    return (
        f"Sorted by recipe '{recipe.name}' (id {recipe.pk}; weights {weights}; sales window {window}). "
        "Each product's score is 100 x the weighted mean of its percentile rank in the collection on each "
        "metric (newness: most recent first), plus its boost; the points per metric are each product's "
        f"score_details. Highest score first, sold-out products last ({sold_out}), ties newest first. "
        f"{boosted} product(s) carry a boost. {moved}"
    )


def _store_positions(collection: Collection, position: dict[int, int], scores: dict | None) -> None:
    """Write every membership's position (and score) in one statement on PostgreSQL.

    Rows whose values did not change are not rewritten: a re-sort that changes little
    then writes little (and leaves no dead row versions behind for counts to wade through).
    """
    rows = []
    for product_id, pos in position.items():
        s = scores.get(product_id) if scores else None
        rows.append((product_id, pos, s.score if s else None, s.points if s else None))
    bulk.bulk_set_rows(
        CollectionProduct,
        ["position", "score", "score_details"],
        rows,
        key="product",
        where={"collection": collection.pk},
        changed_only=True,
    )


# ---- products -------------------------------------------------------------------------------


def _setting_for_update(tenant: Tenant, product: Product) -> ProductSetting:
    setting, _ = ProductSetting.objects.select_for_update().get_or_create(tenant=tenant, product=product)
    return setting


def _product(tenant: Tenant, product_id: int) -> Product:
    product = Product.objects.for_tenant(tenant).filter(external_id=product_id).first()
    if product is None:
        raise NotFound(f"Product {product_id} not found")
    return product


@transaction.atomic
def product_boost_set(*, tenant: Tenant, product_id: int, boost: int) -> ProductSetting:
    """Set the points added to a product's score in every collection sort."""
    product = _product(tenant, product_id)
    setting = _setting_for_update(tenant, product)
    setting.boost = boost
    setting.save(update_fields=["boost", "updated_at"])
    return setting


@transaction.atomic
def product_enable(*, tenant: Tenant, product_id: int, options: list[dict]) -> Product:
    """Enable option sorting and upsert the rules of the options given (others keep theirs).

    Returns the product as written, ready for ``list_products``'s body with nothing read again: its
    setting and its options (by position) with their rules are loaded on it.
    """
    product = _product(tenant, product_id)
    prefetch_related_objects([product], selectors.OPTIONS_WITH_RULES)
    by_id = {o.external_id: o for o in product.options.all()}
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, spec in enumerate(options):
        option = by_id.get(spec["option_id"])
        if option is None:
            errors[f"options[{index}].option_id"] = [f"Option {spec['option_id']} is not an option of this product"]
        elif option.name.strip().casefold() != spec["option_name"].strip().casefold():
            errors[f"options[{index}].option_name"] = [f"Option {spec['option_id']} is named {option.name!r}"]
        elif spec["option_id"] in seen:
            errors[f"options[{index}].option_id"] = ["Option given twice"]
        seen.add(spec["option_id"])
    if errors:
        raise ValidationFailed("Invalid option configuration", errors=errors)
    setting = _setting_for_update(tenant, product)
    setting.option_sorting_enabled = True
    setting.save(update_fields=["option_sorting_enabled", "updated_at"])
    Product.merchandising.related.set_cached_value(product, setting)
    for spec in options:
        option = by_id[spec["option_id"]]
        rule, _ = OptionSortRule.objects.update_or_create(
            option=option,
            defaults={
                "tenant": tenant,
                "product": product,
                "sort_type": spec["sort_type"],
                "sold_out": spec.get("sold_out") or "bottom",
                "direction": spec.get("direction") or option_sorting.default_direction(spec["sort_type"]),
                "days": spec.get("days") or "30",
                "csv_pattern": spec.get("csv_pattern") or "",
                "common_size": spec.get("common_size") or "",
            },
        )
        ProductOption.sort_rule.related.set_cached_value(option, rule)
    return product


@transaction.atomic
def product_disable(*, tenant: Tenant, product_id: int) -> ProductSetting:
    """Stop sorting a product's options (its rules are kept for a later enable)."""
    product = _product(tenant, product_id)
    setting = _setting_for_update(tenant, product)
    setting.option_sorting_enabled = False
    setting.save(update_fields=["option_sorting_enabled", "updated_at"])
    return setting


@transaction.atomic
def product_sort_request(*, tenant: Tenant, product_id: int) -> tuple[Product, list[OptionSortRule]]:
    """Queue an option sort; the product must be enabled with at least one rule that sorts."""
    from merchandising import tasks

    product = _product(tenant, product_id)
    setting = _setting_for_update(tenant, product)
    rules = list(
        OptionSortRule.objects.filter(product=product).exclude(sort_type=SortType.OFF).select_related("option")
    )
    if not setting.option_sorting_enabled or not rules:
        raise ValidationFailed(
            "The product must be enabled with option sorting configured before it can be sorted",
            errors={"product_id": ["not enabled" if not setting.option_sorting_enabled else "no option sort rules"]},
        )
    setting.option_sort_state = SortState.QUEUED
    setting.option_sort_error = ""
    setting.save(update_fields=["option_sort_state", "option_sort_error", "updated_at"])
    pk = product.pk
    enqueue(tasks.product_options_sort, pk)
    return product, rules


def product_options_sort_run(*, product_pk: int, now: datetime | None = None) -> str:
    """Re-sort the values of each option of a product with a rule (the task's body).

    Writes the new order into ``ProductOption.values`` and records on each rule when
    and how it sorted. The product's settings row is locked for the whole run.
    """
    with transaction.atomic():
        setting = ProductSetting.objects.select_for_update(skip_locked=True).filter(product_id=product_pk).first()
        if setting is None:
            exists = ProductSetting.objects.filter(product_id=product_pk).exists()
            return "busy" if exists else "gone"
        if not setting.option_sorting_enabled:
            setting.option_sort_state = SortState.IDLE
            setting.save(update_fields=["option_sort_state", "updated_at"])
            return "skipped"
        product = Product.objects.get(pk=product_pk)
        now = now or timezone.now()
        rules = list(OptionSortRule.objects.filter(product=product).select_related("option"))
        facts_by_days: dict[str, list] = {}
        for rule in rules:
            if rule.sort_type == SortType.OFF:
                continue
            if rule.days not in facts_by_days:
                facts_by_days[rule.days] = selectors.product_variant_facts(product=product, days=rule.days, now=now)
            option = rule.option
            new = option_sorting.sort_values(
                option_sorting.Rule(
                    sort_type=rule.sort_type,
                    sold_out=rule.sold_out,
                    direction=rule.direction,
                    csv_pattern=rule.csv_pattern,
                    common_size=rule.common_size,
                ),
                list(option.values or []),
                option.position - 1,
                facts_by_days[rule.days],
            )
            if new != option.values:
                option.values = new
                option.save(update_fields=["values"])
            rule.last_sorted_at = now
            rule.last_sort_method = _method_text(rule)
            rule.save(update_fields=["last_sorted_at", "last_sort_method", "updated_at"])
        setting.option_sort_state = SortState.IDLE
        setting.option_sort_error = ""
        setting.options_sorted_at = now
        setting.save(update_fields=["option_sort_state", "option_sort_error", "options_sorted_at", "updated_at"])
        store_writeback.product_options_writeback_queue(product=product)
        return "done"


def product_options_sort_failed(*, product_pk: int, reason: str) -> None:
    ProductSetting.objects.filter(product_id=product_pk).update(
        option_sort_state=SortState.ERROR, option_sort_error=reason[:2000], updated_at=timezone.now()
    )


def _method_text(rule: OptionSortRule) -> str:
    parts = [rule.sort_type, rule.direction, f"sold_out={rule.sold_out}"]
    if rule.sort_type in {"sales", "revenues", "margins", "discount_amounts", "discount_percentages"}:
        parts.append(f"days={rule.days}")
    if rule.csv_pattern:
        parts.append(f"pattern={rule.csv_pattern[:100]}")
    if rule.common_size:
        parts.append(f"system={rule.common_size}")
    return " ".join(parts)


def collections_resort_enabled() -> int:
    """Queue a sort of every enabled collection that has a recipe and is not already queued."""
    from merchandising import tasks

    count = 0
    now = timezone.now()
    for pk in selectors.enabled_collection_ids():
        # a sort queued in the last hour is still on its way; an older "queued" was lost and is sent again
        updated = (
            Collection.objects.filter(pk=pk)
            .exclude(sort_state=SortState.QUEUED, sort_requested_at__gte=now - timedelta(hours=1))
            .exclude(sort_state=SortState.RUNNING, sort_started_at__gte=now - SORT_STALE_AFTER)
            .update(sort_state=SortState.QUEUED, sort_requested_at=now)
        )
        if updated:
            enqueue(tasks.collection_sort, pk)
            count += 1
    return count


REVERT_CHOICES = RevertSorting.values


# ---- changes from the shop's webhooks (catalog.webhooks) ---------------------------------------------------


@transaction.atomic
def collection_details_upsert(
    *, tenant: Tenant, external_id: int, title: str, handle: str, sort_order: str
) -> tuple[Collection, bool]:
    """A collection as Shopify's collections/create|update webhooks describe it: title, handle, sort order.

    Membership is not in those payloads; it comes through the collections sync call. Returns
    (collection, created)."""
    collection, created = Collection.objects.select_for_update().get_or_create(
        tenant=tenant,
        external_id=external_id,
        defaults={"title": title, "handle": handle, "shop_sort_order": sort_order},
    )
    if not created:
        fields = {"title": title, "handle": handle, "shop_sort_order": sort_order}
        changed = [name for name, value in fields.items() if getattr(collection, name) != value]
        if changed:
            for name in changed:
                setattr(collection, name, fields[name])
            collection.save(update_fields=[*changed, "updated_at"])
    return collection, created


def collections_delete(*, tenant: Tenant, external_ids: list[int]) -> int:
    """Forget collections the shop deleted (their settings and sort history go with them)."""
    deleted, _ = Collection.objects.for_tenant(tenant).filter(external_id__in=external_ids).delete()
    return deleted


def collections_resort_for_products(*, tenant: Tenant, product_ids: list[int]) -> list[int]:
    """Re-sort, soon and once, the enabled collections (with a recipe) that hold these products.

    Debounced: a collection already queued is left alone (its sort reads the data when it runs), and a
    new sort is queued ``SHOPIFY_RESORT_DEBOUNCE_SECONDS`` ahead, so a burst of webhooks gives one sort.
    A collection whose sort is running gets one more sort queued after it. Returns the collections queued.
    """
    from django.conf import settings
    from django.db.models import F

    from merchandising import tasks

    now = timezone.now()
    candidates = sorted(
        set(
            CollectionProduct.objects.filter(
                tenant=tenant,
                product_id__in=product_ids,
                collection__enabled=True,
                collection__recipe__isnull=False,
            ).values_list("collection_id", flat=True)
        )
    )
    queued = []
    for pk in candidates:
        base = Collection.objects.filter(pk=pk).exclude(
            sort_state=SortState.QUEUED, sort_requested_at__gte=now - timedelta(hours=1)
        )
        # running: queue one follow-up sort, unless one was asked for after this run started
        waiting = base.filter(sort_state=SortState.RUNNING).exclude(sort_requested_at__gt=F("sort_started_at"))
        if waiting.update(sort_requested_at=now) or base.exclude(sort_state=SortState.RUNNING).update(
            sort_state=SortState.QUEUED, sort_requested_at=now, sort_error=""
        ):
            queued.append(pk)
    delay = settings.SHOPIFY_RESORT_DEBOUNCE_SECONDS
    if queued:
        transaction.on_commit(lambda: [tasks.collection_sort.apply_async((pk,), countdown=delay) for pk in queued])
    return queued
