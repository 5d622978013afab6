"""Writes to the product master: products, GTINs, duplicate clusters, categories, states, sales rollups.

Every function takes ``tenant=`` (or rows already loaded from it), is
keyword-only and atomic. Other apps call ``daily_sales_rollup`` after writing
orders of their own and read the rows these functions write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from apikeys.exceptions import ValidationFailed
from catalog import after_write, duplicates, index
from catalog.exceptions import InvalidTransition, RecommendationRefused
from catalog.gtin import Code
from catalog.models import (
    Category,
    CategorySource,
    DailySales,
    DuplicateCluster,
    Order,
    OrderLine,
    Product,
    ProductGtin,
    ProductState,
    ProductTransition,
    Variant,
)
from core import bulk
from core.locks import retry_deadlock, tenant_lock
from core.outbox import enqueue
from tenants.models import Tenant

S = ProductState

# The product state machine (Sortillus AASM states): event -> (allowed from-states, to-state).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    # A product gets a category (assigned or suggested): it is ready for recommendations.
    "categorize": (frozenset({S.NEW}), S.READY),
    # Recommendations may be (re)computed from any resting state, not while a computation runs.
    "recommend": (frozenset({S.NEW, S.READY, S.RECOMMENDED, S.ERROR}), S.RECOMMENDING),
    "recommendations_done": (frozenset({S.RECOMMENDING}), S.RECOMMENDED),
    "fail": (frozenset({S.RECOMMENDING}), S.ERROR),
}


def can_transition(product: Product, event: str) -> bool:
    return product.state in TRANSITIONS[event][0]


def product_transition(*, product: Product, event: str, reason: str = "", save: bool = True) -> Product:
    """Apply ``event`` to ``product`` (raises InvalidTransition when its state forbids it) and log it."""
    allowed, target = TRANSITIONS[event]
    if product.state not in allowed:
        raise InvalidTransition(event, product.state)
    now = timezone.now()
    ProductTransition.objects.create(
        tenant_id=product.tenant_id,
        product=product,
        from_state=product.state,
        to_state=target,
        event=event,
        reason=reason[:2000],
        at=now,
    )
    product.state = target
    product.state_changed_at = now
    if save:
        product.save(update_fields=["state", "state_changed_at", "updated_at"])
    return product


# ---- GTINs and duplicate clusters ----------------------------------------------------------------


def _gtins_write(product: Product, codes: dict[str, tuple[str, bool, bool]], primary: str) -> None:
    """Replace the product's GTIN rows: ``codes`` maps key -> (as sent, valid, restricted), in order."""
    ProductGtin.objects.filter(product=product).delete()
    rows, position = [], 1
    for key, (text, valid, restricted) in codes.items():
        if key == primary:
            pos = 0
        else:
            pos, position = position, position + 1
        rows.append(
            ProductGtin(
                tenant_id=product.tenant_id,
                product=product,
                gtin=key,
                code="" if text == key else text,
                valid=valid,
                position=pos,
                restricted=restricted,
            )
        )
    ProductGtin.objects.bulk_create(rows)
    product.gtin = primary


def _entry(code: Code) -> tuple[str, bool, bool]:
    return (code.text, code.valid, code.restricted)


def product_gtins_set(*, product: Product, gtin: Code | str | None, gtins: list[Code] | None) -> bool:
    """Apply the Sortillus ``gtin``/``gtins`` rules; True when the product's GTINs changed.

    ``gtins`` (when given) replaces the whole list, ``[]`` clears it; ``gtin``
    (when given) is the primary and wins over the first of ``gtins``; ``""``
    clears the primary. None means "not given". Every non-empty code is kept as
    sent; only valid GS1 codes (normalised) are used to find duplicates.
    """
    if gtin is None and gtins is None:
        return False
    current = {
        key: (text or key, valid, restricted)
        for key, text, valid, restricted in ProductGtin.objects.filter(product=product)
        .order_by("position")
        .values_list("gtin", "code", "valid", "restricted")
    }
    before = (product.gtin, sorted(current.items()))
    codes = {g.key: _entry(g) for g in gtins} if gtins is not None else dict(current)
    primary = product.gtin
    if isinstance(gtin, Code):
        primary = gtin.key
        codes = {gtin.key: _entry(gtin), **{c: e for c, e in codes.items() if c != gtin.key}}
    elif gtin == "":
        if gtins is None:
            codes.pop(primary, None)
        primary = ""
    else:
        primary = next(iter(codes), "")
    if before == (primary, sorted(codes.items())):
        return False
    _gtins_write(product, codes, primary)
    product.save(update_fields=["gtin", "updated_at"])
    return True


def _component(tenant: Tenant, seeds: set[int]) -> set[int]:
    """Every product connected to ``seeds`` by a shared GTIN, a current cluster or an explicit link."""
    found = set(seeds)
    frontier = set(seeds)
    for _ in range(20):  # bounded: components are small; a pathological chain stops growing here
        if not frontier:
            break
        codes = set(
            ProductGtin.objects.for_tenant(tenant)
            .filter(product_id__in=frontier, valid=True)
            .values_list("gtin", flat=True)
        )
        linked = (
            Product.objects.for_tenant(tenant).filter(pk__in=frontier).values_list("cluster_id", "canonical_link_id")
        )
        clusters = {c for c, _ in linked if c}
        targets = {t for _, t in linked if t}
        more = set(
            ProductGtin.objects.for_tenant(tenant)
            .filter(gtin__in=codes, valid=True)
            .values_list("product_id", flat=True)
        )
        more |= set(
            Product.objects.for_tenant(tenant)
            .filter(Q(cluster_id__in=clusters) | Q(canonical_link_id__in=frontier) | Q(pk__in=targets))
            .values_list("pk", flat=True)
        )
        frontier = more - found
        found |= more
    return found


def clusters_refresh(*, tenant: Tenant, product_ids: Iterable[int]) -> None:
    """Recompute the duplicate clusters that contain ``product_ids`` (union-find over shared GTINs).

    Two products sharing a valid normalised GTIN or linked
    explicitly are one cluster; an explicitly chosen canonical survives, else
    the most complete, then the oldest record is canonical.
    """
    ids = _component(tenant, set(product_ids))
    if not ids:
        return
    rows = list(
        Product.objects.for_tenant(tenant)
        .filter(pk__in=ids)
        .values_list("pk", "created_at", "description", "image", "brand", "canonical_link_id", "cluster_id")
    )
    gtins: dict[int, set[str]] = {pk: set() for pk in ids}
    valid_gtins = ProductGtin.objects.for_tenant(tenant).filter(product_id__in=ids, valid=True)
    for pk, code in valid_gtins.values_list("product_id", "gtin"):
        # A GTIN-14 pack (indicator 1-8) normalises to a different code than its base item, so it is
        # never merged with the item; two listings of the same pack do share the code and cluster.
        gtins[pk].add(code)
    records = {
        r[0]: duplicates.Record(
            id=r[0],
            gtins=frozenset(gtins[r[0]]),
            created_at=r[1],
            has_description=bool(r[2]),
            has_image=bool(r[3]),
            has_brand=bool(r[4]),
            links=frozenset({r[5]} if r[5] else ()),
        )
        for r in rows
    }
    old_cluster = {r[0]: r[6] for r in rows}
    clusters = {
        c.pk: c for c in DuplicateCluster.objects.for_tenant(tenant).filter(pk__in=set(old_cluster.values()) - {None})
    }
    used: set[int] = set()
    new_cluster: dict[int, int | None] = {}
    now = timezone.now()
    for members in duplicates.groups(records.values()):
        explicit = None
        for pk in members:
            c = clusters.get(old_cluster[pk])
            if c is not None and c.canonical_explicit and c.canonical_id in members:
                explicit = c.canonical_id
                break
        if len(members) == 1 and explicit is None:
            new_cluster[members[0]] = None
            continue
        counts = Counter(
            old_cluster[pk] for pk in members if old_cluster[pk] in clusters and old_cluster[pk] not in used
        )
        if counts:
            cluster = clusters[min(counts, key=lambda c: (-counts[c], c))]
        else:
            cluster = DuplicateCluster.objects.create(tenant=tenant)
            clusters[cluster.pk] = cluster
        used.add(cluster.pk)
        canonical = duplicates.pick_canonical([records[pk] for pk in members], explicit)
        if cluster.canonical_id != canonical or cluster.canonical_explicit != (explicit is not None):
            cluster.canonical_id = canonical
            cluster.canonical_explicit = explicit is not None
            cluster.save(update_fields=["canonical", "canonical_explicit", "updated_at"])
        for pk in members:
            new_cluster[pk] = cluster.pk
    changed = [pk for pk, c in new_cluster.items() if old_cluster[pk] != c]
    if changed:
        objs = [Product(pk=pk, cluster_id=new_cluster[pk], updated_at=now) for pk in changed]
        Product.objects.bulk_update(objs, ["cluster_id", "updated_at"], batch_size=500)
    stale = set(clusters) - used
    if stale:
        DuplicateCluster.objects.for_tenant(tenant).filter(pk__in=stale).delete()


def product_canonical_set(*, tenant: Tenant, product: Product, canonical: Product) -> None:
    """Make ``canonical`` the explicit canonical of ``product``'s cluster (joining them if needed)."""
    if canonical.pk != product.pk:
        product.canonical_link = canonical
        product.save(update_fields=["canonical_link", "updated_at"])
    clusters_refresh(tenant=tenant, product_ids=[product.pk, canonical.pk])
    canonical.refresh_from_db(fields=["cluster"])
    cluster = canonical.cluster
    if cluster is None:
        cluster = DuplicateCluster.objects.create(tenant=tenant)
        Product.objects.filter(pk=canonical.pk).update(cluster=cluster, updated_at=timezone.now())
    cluster.canonical = canonical
    cluster.canonical_explicit = True
    cluster.save(update_fields=["canonical", "canonical_explicit", "updated_at"])


# ---- products ----------------------------------------------------------------------------------


def category_find(*, tenant: Tenant, ref: str) -> Category | None:
    """A category by full external id ("L4_2345"), then by external id ("2345")."""
    categories = Category.objects.for_tenant(tenant)
    found = categories.filter(full_external_id=ref).order_by("pk").first()
    if found is None and ref.isascii() and ref.isdigit() and 0 < int(ref) < 2**63:
        found = categories.filter(external_id=int(ref)).first()
    return found


@transaction.atomic
def product_create(
    *,
    tenant: Tenant,
    external_id: int,
    name: str,
    description: str = "",
    image: str = "",
    suggested_category_name: str = "",
    brand: str = "",
    active: bool = True,
    gtin: Code | str | None = None,
    gtins: list[Code] | None = None,
) -> tuple[Product, bool]:
    """Create a product (Sortillus POST /products); its category is then suggested in the background.

    Returns the product as written (the row inserted, and its primary GTIN when it has one) and whether the
    write changed more than that row: its GTINs, and the duplicate clusters they may have moved it into,
    which whoever shows the product must read again.
    """
    if Product.objects.for_tenant(tenant).filter(external_id=external_id).exists():
        raise ValidationFailed("Validation failed", {"id": ["has already been taken"]})
    product = Product(
        tenant=tenant,
        external_id=external_id,
        name=name,
        description=description,
        image=image,
        suggested_category_name=suggested_category_name,
        brand=brand,
        active=active,
    )
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:  # a concurrent create of the same id won the race
        raise ValidationFailed("Validation failed", {"id": ["has already been taken"]}) from exc
    clusters_moved = product_gtins_set(product=product, gtin=gtin, gtins=gtins)
    if clusters_moved:
        clusters_refresh(tenant=tenant, product_ids=[product.pk])
    after_write.products_written(tenant=tenant, created=[product.pk], clusters_moved=clusters_moved)
    return product, clusters_moved


_TEXT_FIELDS = ("name", "description", "brand", "suggested_category_name")


@retry_deadlock
@transaction.atomic
def product_update(
    *,
    tenant: Tenant,
    product: Product,
    fields: dict,
    category_ref: str | None = None,
    gtin: Code | str | None = None,
    gtins: list[Code] | None = None,
    make_canonical: bool = False,
    canonical_ref: int | None = None,
) -> tuple[Product, bool]:
    """Change only the given fields of a product (Sortillus PATCH /products/:id).

    ``fields`` holds plain attributes (name, description, image, brand,
    suggested_category_name, active); the category and canonical product are
    given as references and looked up inside the tenant (422 when missing).

    Returns the product as written (the row read under lock, with its category loaded when one was
    assigned) and whether the write changed more than that row: its GTINs or duplicate clusters, which
    whoever shows the product must read again.
    """
    errors: dict[str, list[str]] = {}
    category = None
    if category_ref is not None:
        category = category_find(tenant=tenant, ref=category_ref)
        if category is None:
            errors["category_id"] = ["Category not found"]
    canonical = None
    if canonical_ref is not None:
        canonical = Product.objects.for_tenant(tenant).filter(external_id=canonical_ref).first()
        if canonical is None:
            errors["external_canonical_product_id"] = ["Product not found"]
    if errors:
        raise ValidationFailed("Validation failed", errors)
    # Locks in one order for every PATCH: the tenant's cluster lock when duplicate clusters can change
    # (they span other products), then the product and its canonical in id order. Two PATCHes linking two
    # products to each other used to lock them in opposite orders and deadlock.
    if gtin is not None or gtins is not None or canonical is not None or make_canonical:
        tenant_lock("clusters", tenant.pk)
    ids = {product.pk} | ({canonical.pk} if canonical is not None else set())
    rows = Product.objects.for_tenant(tenant).filter(pk__in=ids).order_by("pk").select_for_update(no_key=True)
    locked = {p.pk: p for p in rows}
    if product.pk not in locked:
        raise Product.DoesNotExist
    product = locked[product.pk]
    if canonical is not None:
        canonical = locked.get(canonical.pk, canonical)

    text_changed = any(k in _TEXT_FIELDS and getattr(product, k) != v for k, v in fields.items())
    for key, value in fields.items():
        setattr(product, key, value)
    if category is not None and category.pk != product.category_id:
        product.category = category
        product.category_score = None  # assigned by the shop, not suggested
    if category is not None:
        product.category_source = CategorySource.MERCHANT  # from now on never replaced by a suggestion
        text_changed = True
    if category is not None and can_transition(product, "categorize"):
        product_transition(product=product, event="categorize", reason="category assigned", save=False)
    product.save()
    clusters_moved = product_gtins_set(product=product, gtin=gtin, gtins=gtins)
    if clusters_moved:
        clusters_refresh(tenant=tenant, product_ids=[product.pk])
    if canonical is not None:
        product_canonical_set(tenant=tenant, product=product, canonical=canonical)
        clusters_moved = True
    elif make_canonical:
        product_canonical_set(tenant=tenant, product=product, canonical=product)
        clusters_moved = True
    after_write.products_written(
        tenant=tenant,
        text_changed=[product.pk] if text_changed else (),
        categorised=[product.pk] if product.category_id is not None else (),
        changed=[product.pk],
        clusters_moved=clusters_moved,
    )
    return product, clusters_moved


@transaction.atomic
def products_categorize(*, tenant: Tenant, categories: Mapping[int, int]) -> int:
    """Set the shop's (merchant) category of many products at once: product pk -> category pk.

    What PATCH ``category_id`` does to one product, set-based: the score is cleared, the source becomes
    "merchant" (never replaced by a suggestion), a new product becomes ready (the transition logged), and
    the products are re-embedded and patched into the index. Returns the products changed.
    """
    if not categories:
        return 0
    now = timezone.now()
    rows = list(
        Product.objects.for_tenant(tenant)
        .filter(pk__in=list(categories))
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", "state", "category_id", "category_source")
    )
    changed = [
        pk for pk, _, category, source in rows if (category, source) != (categories[pk], CategorySource.MERCHANT)
    ]
    allowed, target = TRANSITIONS["categorize"]
    changing = set(changed)
    readied = [pk for pk, state, *_ in rows if pk in changing and state in allowed]
    by_category: dict[int, list[int]] = {}
    for pk in changed:
        by_category.setdefault(categories[pk], []).append(pk)
    for category_id, pks in by_category.items():
        Product.objects.filter(pk__in=pks).update(
            category_id=category_id, category_score=None, category_source=CategorySource.MERCHANT, updated_at=now
        )
    if readied:
        ProductTransition.objects.bulk_create(
            ProductTransition(
                tenant_id=tenant.pk, product_id=pk, from_state=S.NEW, to_state=target, event="categorize",
                reason="category assigned", at=now,
            )
            for pk in readied
        )  # fmt: skip
        Product.objects.filter(pk__in=readied).update(state=target, state_changed_at=now)
    if changed:
        from catalog import tasks  # tasks import services

        enqueue(tasks.products_embed, tenant.pk, changed)  # the category is part of the embedded text
        transaction.on_commit(lambda: index.products_changed(tenant, changed))
    return len(changed)


@transaction.atomic
def product_recommend_start(*, tenant: Tenant, product: Product) -> Product:
    """Move a product to ``recommending_products`` and enqueue the computation (after commit)."""
    from catalog import tasks

    if not tenant.should_recommend_products:
        raise RecommendationRefused(
            "should_recommend_products", "Recommendations are disabled for this shop (should_recommend_products)"
        )
    product = Product.objects.select_for_update().get(pk=product.pk, tenant=tenant)
    if not can_transition(product, "recommend"):
        raise RecommendationRefused("state", f"Cannot recommend products for a product in state '{product.state}'")
    product_transition(product=product, event="recommend", reason="requested through the API", save=False)
    product.last_error = ""
    product.save(update_fields=["state", "state_changed_at", "last_error", "updated_at"])
    pk = product.pk
    enqueue(tasks.product_recommend, pk, tenant.pk)  # the tenant id routes it (config.celery.route_task)
    return product


@transaction.atomic
def product_recommend_fail(*, product_id: int, reason: str) -> None:
    """Record a failed recommendation computation: the product goes to ``error`` with the reason."""
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None or not can_transition(product, "fail"):
        return
    product_transition(product=product, event="fail", reason=reason, save=False)
    product.last_error = reason[:2000]
    product.save(update_fields=["state", "state_changed_at", "last_error", "updated_at"])


# ---- categories ---------------------------------------------------------------------------------


def _descendants(category: Category) -> list[Category]:
    out, frontier = [], [category.pk]
    seen = {category.pk}
    while frontier:
        children = list(Category.objects.filter(tenant_id=category.tenant_id, parent_id__in=frontier))
        children = [c for c in children if c.pk not in seen]
        seen.update(c.pk for c in children)
        out.extend(children)
        frontier = [c.pk for c in children]
    return out


def _category_unchanged(
    category: Category, name: str, en_name: str, en_description: str, description: str | None, parent: object
) -> bool:
    """Whether an upsert would leave the category as it is (``parent`` Ellipsis: the parent is not being set)."""
    return (
        (category.name, category.en_name, category.en_description) == (name, en_name, en_description)
        and (description is None or category.description == description)
        and (parent is ... or category.parent_id == (parent.pk if parent is not None else None))
    )


@retry_deadlock
@transaction.atomic
def category_upsert(
    *,
    tenant: Tenant,
    external_id: int,
    name: str,
    en_name: str,
    en_description: str,
    description: str | None = None,
    external_parent_id: int | None = None,
    parent_given: bool = False,
) -> tuple[Category, bool]:
    """Create or update a category by external id; returns (category, created).

    The level follows the parent chain and ``full_external_id`` is
    ``L{level}_{external_id}``; descendants follow a level change. A parent
    that is missing, or that would make the category its own ancestor, is refused.
    """
    # One category write of a shop at a time: the parent check walks the tree (two writes that would each
    # pass alone could form a cycle together), and a create racing another create of the same id must see
    # it and answer as an update.
    tenant_lock("categories", tenant.pk)
    # the category and its parent in one query: a taxonomy is posted one category per request, thousands of them
    wanted = [external_id] if external_parent_id is None else [external_id, external_parent_id]
    found = {c.external_id: c for c in Category.objects.for_tenant(tenant).filter(external_id__in=wanted)}
    category = found.get(external_id)
    created = category is None
    parent = None
    if external_parent_id is not None:
        parent = found.get(external_parent_id)
        if parent is None:
            raise ValidationFailed("Validation failed", {"external_parent_id": ["Parent category not found"]})
        if not created:
            node, seen = parent, set()
            while node is not None and node.pk not in seen:
                if node.pk == category.pk:
                    raise ValidationFailed(
                        "Validation failed", {"external_parent_id": ["would make the category its own ancestor"]}
                    )
                seen.add(node.pk)
                node = node.parent
    if not created and _category_unchanged(
        category,
        name,
        en_name,
        en_description,
        description,
        parent if (external_parent_id is not None or parent_given) else ...,
    ):
        # A shop re-posting its whole taxonomy: nothing to write, no index to invalidate, no refresh to queue.
        return category, False
    if created:
        category = Category(tenant=tenant, external_id=external_id)
    category.name = name
    category.en_name = en_name
    category.en_description = en_description
    if description is not None:
        category.description = description
    if external_parent_id is not None or parent_given or created:
        category.parent = parent
    old_level = category.level if not created else None
    category.level = category.parent.level + 1 if category.parent_id else 1
    category.full_external_id = f"L{category.level}_{category.external_id}"
    category.save()
    if old_level is not None and old_level != category.level:
        moved = _descendants(category)
        levels = {category.pk: category.level}
        for child in moved:  # breadth-first, so a parent's level is known before its children's
            child.level = levels[child.parent_id] + 1
            child.full_external_id = f"L{child.level}_{child.external_id}"
            levels[child.pk] = child.level
        Category.objects.bulk_update(moved, ["level", "full_external_id"], batch_size=500)
        Category.objects.filter(pk__in=[c.pk for c in moved]).update(updated_at=timezone.now())
    transaction.on_commit(lambda: index.categories_changed(tenant))
    from catalog import category_suggestions  # it imports this module

    transaction.on_commit(lambda: category_suggestions.categories_changed(tenant))
    return category, created


# ---- sales rollup -------------------------------------------------------------------------------


@transaction.atomic
def daily_sales_rollup(*, tenant: Tenant, pairs: Iterable[tuple[int, date]]) -> int:
    """Recompute the daily sales of the given (variant id, UTC date) pairs from their order lines.

    Idempotent: the rows of the pairs (and only those) are deleted and rebuilt
    from the non-cancelled order lines, so running it twice changes nothing.
    Returns the number of rows written. Revenue is net of line discounts.

    A fixed number of statements, whatever the number of pairs, and the lines
    read are those of the pairs' days, never a variant's whole history: a shop
    importing its order history out of date order paid for all of it on every
    call (cProfile, seed_demo --products 10000: 14 of the order sync's 19 s).
    """
    pairs = set(pairs)
    if not pairs:
        return 0
    # Two rollups of one variant (two orders with the same variant synced at once) take turns: each
    # recomputes from the lines the other committed, so neither overwrites the other's sales with a
    # count that misses them. Locked in id order, so rollups never deadlock on each other.
    product_of = dict(
        Variant.objects.for_tenant(tenant)
        .filter(bulk.any_of("pk", sorted({v for v, _ in pairs})))
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", "product_id")
    )
    bulk.delete_keys(DailySales, ("variant", "date"), pairs, where={"tenant": tenant.pk})
    # Two single-table reads, each served by an index whatever the statistics say: the non-cancelled orders
    # created on the pairs' days (tenant, created_at), then those orders' lines of the pairs' variants (order).
    # One join of the two, aggregated in SQL, was planned badly while a bulk import outran the statistics
    # (seed_demo --products 10000 under cProfile: 182 s in its reads, against 1.3 s for these two); by
    # variant alone, every call read the variants' whole history (and the orders of all of it).
    day_of = dict(
        Order.objects.for_tenant(tenant)
        .filter(_days_q("created_at", {d for _, d in pairs}), cancelled_at__isnull=True)
        .values_list("pk", TruncDate("created_at", tzinfo=UTC))
    )
    totals: dict[tuple[int, date], list] = {}
    if day_of:
        lines = (
            OrderLine.objects.for_tenant(tenant)
            .filter(bulk.any_of("order_id", day_of), bulk.any_of("variant_id", product_of))
            .values_list("variant_id", "order_id", "quantity", "price", "total_discount")
        )
        for variant_id, order_id, quantity, price, discount in lines:
            key = (variant_id, day_of[order_id])
            if key not in pairs:  # another variant of the call sold that day: not asked for
                continue
            acc = totals.setdefault(key, [0, Decimal(0), Decimal(0)])
            acc[0] += quantity
            acc[1] += price * quantity - discount
            acc[2] += discount
    rows = [
        {
            "tenant_id": tenant.pk,
            "product_id": product_of[variant_id],
            "variant_id": variant_id,
            "date": day,
            "units": units,
            "revenue": revenue.quantize(Decimal("0.01")),
            "discount": discount.quantize(Decimal("0.01")),
        }
        for (variant_id, day), (units, revenue, discount) in totals.items()
    ]
    # one set-based statement (core.bulk) instead of the ORM's bulk_create, which built a model instance per row
    # and compiled each batch: 8 of the 12 s the rollup took while the demo's 50,000 order lines were synced
    bulk.upsert(
        DailySales,
        rows,
        defaults={},
        conflict=("variant", "date"),
        update=("product", "units", "revenue", "discount"),
    )
    return len(rows)


# Beyond this many separate runs of days, one span from the first day to the last (the OR of ranges stays short).
_MAX_DAY_RUNS = 64


def _days_q(field: str, days: Iterable[date]) -> Q:
    """``field`` (a UTC timestamp) falls on one of ``days``: a range per run of consecutive days, so an index
    on the timestamp serves it (the UTC date of the column would be computed for every row)."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1][1] = day + timedelta(days=1)
        else:
            runs.append([day, day + timedelta(days=1)])
    if len(runs) > _MAX_DAY_RUNS:
        runs = [[runs[0][0], runs[-1][1]]]
    q = Q()
    for first, end in runs:
        q |= Q(
            **{
                f"{field}__gte": datetime.combine(first, time.min, UTC),
                f"{field}__lt": datetime.combine(end, time.min, UTC),
            }
        )
    return q


@transaction.atomic
def products_delete(*, tenant: Tenant, external_ids: list[int]) -> list[int]:
    """Delete the shop's products with these ids (Shopify deleted them), with everything attached to them.

    Returns the primary keys deleted; unknown ids are skipped (a delete is safe to repeat)."""
    products = Product.objects.for_tenant(tenant).filter(external_id__in=external_ids)
    pks = list(products.order_by("pk").select_for_update().values_list("pk", flat=True))
    if pks:
        Product.objects.filter(pk__in=pks).delete()
        transaction.on_commit(lambda: index.products_changed(tenant, pks))
    return pks
