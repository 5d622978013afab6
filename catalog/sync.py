"""Platform sync: Shopify products and orders into the product master (DESIGN.md "Platform surface").

Each call upserts up to 1000 validated items in one transaction with bulk
statements (a fixed number of queries per call, not per item or field). An
item that cannot be applied is rejected whole, with the reason; the others
are applied. Re-sending the same payload changes nothing.

``products_sync`` is a sequence of steps, one job each: keep one copy of each
item, read what is stored, reject items that claim another product's variants,
then write products, options, variants and GTINs (only the rows that changed),
link orders that waited for new variants and announce the write
(catalog/after_write.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from catalog import after_write, services
from catalog.gtin import normalise_or_none
from catalog.models import Order, OrderLine, Product, ProductGtin, ProductOption, Variant
from core import bulk
from core.locks import keys_lock, retry_deadlock
from tenants.models import Tenant

# The product columns the sync writes, each read from a validated Shopify product (one declaration: the
# upsert's columns, the stored read and the change check all derive from it).
PRODUCT_COLUMNS: dict[str, Callable[[dict], Any]] = {
    "name": lambda p: p["title"],
    "description": lambda p: p.get("body_html") or "",
    "image": lambda p: (p.get("image") or {}).get("src", ""),
    "brand": lambda p: p.get("vendor") or "",
    "product_type": lambda p: p.get("product_type") or "",
    "handle": lambda p: p.get("handle") or "",
    "status": lambda p: p.get("status") or "active",
    "tags": lambda p: p.get("tags") or "",
    "created_at": lambda p: p.get("created_at"),  # the call's time when not sent (new) or the stored one
}
PRODUCT_FIELDS = tuple(PRODUCT_COLUMNS)
# the product columns that are embedded text (catalog.index.product_text): a change re-embeds
EMBEDDED_TEXT = ("name", "description", "brand")


def _tracked(v: dict) -> bool:
    """Whether the shop counts the variant's stock (docs/platform-sync.md "Payload shapes").

    Shopify tracks by default: only an explicit ``inventory_management: null`` means untracked. A storefront
    object has no stock figures but ``available``: a variant that cannot be bought is tracked with none left.
    A variant with no stock information at all has nothing to track.
    """
    if "inventory_management" in v:
        return v["inventory_management"] is not None
    if "inventory_quantity" in v:
        return True
    if "available" in v:
        return not v["available"]
    return False


# Every Variant column but its keys and ``updated_at`` is the shop's: the sync writes it, read from the
# validated variant under the column's own name (a missing or null value takes the field's default unless
# the column is nullable). A new variant field needs no line here: the model, the sync input and a
# migration. Only the columns Shopify names otherwise, or that the sync derives, are read differently:
_VARIANT_DERIVED: dict[str, Callable[[dict], Any]] = {
    "inventory_tracked": _tracked,
    "continue_selling": lambda v: v.get("inventory_policy") == "continue",
}
_VARIANT_SET_BY_SYNC = ("product_id", "position", "created_at")  # the owner, the order sent, the call's time
VARIANT_FIELDS = tuple(
    f.attname for f in Variant._meta.concrete_fields if f.name not in ("id", "tenant", "external_id", "updated_at")
)
_VARIANT_READ = [
    f
    for f in Variant._meta.concrete_fields
    if f.attname in VARIANT_FIELDS and f.attname not in _VARIANT_DERIVED and f.attname not in _VARIANT_SET_BY_SYNC
]
_READ_ATTNAMES = tuple(f.attname for f in _VARIANT_READ)
_READ_NAMES = tuple(f.name for f in _VARIANT_READ)
_READ_FALLBACKS = tuple((f.attname, f.get_default()) for f in _VARIANT_READ if not f.null)


def _variant_values(v: dict, *, product_id: int, position: int, now: datetime) -> dict:
    values = dict(zip(_READ_ATTNAMES, map(v.get, _READ_NAMES), strict=True))
    for attname, fallback in _READ_FALLBACKS:
        if values[attname] is None:
            values[attname] = fallback
    for attname, derive in _VARIANT_DERIVED.items():
        values[attname] = derive(v)
    values["product_id"], values["position"], values["created_at"] = product_id, position, v.get("created_at") or now
    return values


def _reject(rejected: list[dict], index_: int, item_id: Any, field_: str, message: str) -> None:
    rejected.append({"index": index_, "id": item_id, "errors": {field_: [message]}})


def _one_per_id(items: list[tuple[int, dict]], rejected: list[dict], kind: str) -> dict[int, tuple[int, dict]]:
    """The items by id, (position in the request, item); a later copy of an id is rejected."""
    by_id: dict[int, tuple[int, dict]] = {}
    for i, item in items:
        if item["id"] in by_id:
            _reject(rejected, i, item["id"], "id", f"Duplicate {kind} id in this request.")
        else:
            by_id[item["id"]] = (i, item)
    return by_id


def _gtins(variants: list[dict]) -> dict[str, bool]:
    """The product's GTINs from its variants' barcodes, in order: normalised code -> restricted."""
    wanted: dict[str, bool] = {}
    for v in variants:
        code = normalise_or_none(v.get("barcode") or "")
        if code is not None:
            wanted.setdefault(code.normalised, code.restricted)
    return wanted


@dataclass
class _Stored:
    """What is stored of the products a call syncs (read once, under the call's key lock)."""

    products: dict[int, dict]  # external id -> the product's columns
    variants: dict[int, dict] = field(default_factory=dict)  # variant external id -> columns, owner's external id
    options: dict[tuple[int, int], tuple] = field(default_factory=dict)  # (product pk, position) -> option
    gtins: dict[int, list[str]] = field(default_factory=dict)  # product pk -> its GTINs in order


@dataclass
class _Written:
    """What a call wrote, for the next steps and the after-write announcement."""

    pk_of: dict[int, int]  # product external id -> pk
    created: list[int]  # external ids of the products created
    product_rows: list[dict] = field(default_factory=list)
    text_changed: list[int] = field(default_factory=list)  # pks
    gtin_changed: list[int] = field(default_factory=list)  # external ids
    changed: set[int] = field(default_factory=set)  # pks whose rows (or rows below them) changed
    new_variants: list[int] = field(default_factory=list)  # external ids
    clusters_moved: bool = False


def _stored_products(tenant: Tenant, ids: Iterable[int]) -> dict[int, dict]:
    return {
        row["external_id"]: row
        for row in Product.objects.for_tenant(tenant)
        .filter(bulk.any_of("external_id", ids))
        .values("pk", "external_id", "gtin", "cluster_id", "canonical_link_id", "category_id", *PRODUCT_FIELDS)
    }


def _stored_variants(tenant: Tenant, variant_ids: Iterable[int], product_pks: list[int]) -> dict[int, dict]:
    """The variants named in the request and all variants of the products synced, with what is stored.

    UNION ALL of two lookups, each with its own index: with OR, PostgreSQL scanned the whole variant table
    (EXPLAIN at 90,000 variants: a 28 ms parallel seq scan, growing with the catalog).
    """
    variants = Variant.objects.for_tenant(tenant).order_by()
    columns = ("pk", "external_id", "product__external_id", *VARIANT_FIELDS)
    return {
        row["external_id"]: row
        for row in variants.filter(bulk.any_of("external_id", variant_ids))
        .values(*columns)
        .union(variants.filter(bulk.any_of("product_id", product_pks)).values(*columns), all=True)
    }


def _stored_rows_below(stored: _Stored, product_pks: list[int]) -> None:
    """The options and GTINs of the stored products the call syncs."""
    stored.gtins = {pk: [] for pk in product_pks}
    if not product_pks:
        return
    for pk, product_id, position, external_id, name, values in ProductOption.objects.filter(
        bulk.any_of("product_id", product_pks)
    ).values_list("pk", "product_id", "position", "external_id", "name", "values"):
        stored.options[(product_id, position)] = (pk, external_id, name, values)
    for product_id, code in (
        ProductGtin.objects.filter(bulk.any_of("product_id", product_pks))
        .order_by("position")
        .values_list("product_id", "gtin")
    ):
        stored.gtins[product_id].append(code)


def _reject_variants_sent_twice(by_id: dict[int, tuple[int, dict]], rejected: list[dict]) -> None:
    """A variant id belongs to one product: an item claiming a variant of an earlier item is rejected whole."""
    seen: dict[int, int] = {}
    for pid, (i, item) in list(by_id.items()):
        clash = next((v["id"] for v in item.get("variants", []) if seen.get(v["id"], pid) != pid), None)
        if clash is None:
            for v in item.get("variants", []):
                seen[v["id"]] = pid
        else:
            _reject(rejected, i, pid, "variants", f"Variant {clash} appears under another product in this request.")
            del by_id[pid]


def _reject_variants_of_other_products(
    by_id: dict[int, tuple[int, dict]], claimed: dict[int, int], stored_variants: dict[int, dict], rejected: list[dict]
) -> None:
    """An item claiming a variant stored under another product is rejected whole."""
    for vid, row in stored_variants.items():
        pid, owner = claimed.get(vid), row["product__external_id"]
        if pid is not None and owner != pid and pid in by_id:
            _reject(rejected, by_id[pid][0], pid, "variants", f"Variant {vid} belongs to product {owner}.")
            del by_id[pid]


def _products_write(
    tenant: Tenant, by_id: dict[int, tuple[int, dict]], stored: _Stored, wanted_gtins: dict[int, dict], now
) -> _Written:
    """Insert the new products, update only those whose values (or GTINs) changed."""
    done = _Written(pk_of={}, created=[pid for pid in by_id if pid not in stored.products])
    for pid in done.created:
        values = {name: read(by_id[pid][1]) for name, read in PRODUCT_COLUMNS.items()}
        values["created_at"] = values["created_at"] or now
        gtins = wanted_gtins[pid]
        done.product_rows.append(
            {
                **values,
                "tenant_id": tenant.pk,
                "external_id": pid,
                "suggested_category_name": values["product_type"],
                "gtin": next(iter(gtins), ""),
                "updated_at": now,
            }
        )
        if gtins:
            done.gtin_changed.append(pid)
    for pid, row in stored.products.items():
        if pid not in by_id:
            continue
        values = {name: read(by_id[pid][1]) for name, read in PRODUCT_COLUMNS.items()}
        values["created_at"] = values["created_at"] or row["created_at"]
        gtins = wanted_gtins[pid]
        gtins_changed = list(gtins) != stored.gtins[row["pk"]]
        values["gtin"] = next(iter(gtins), "") if gtins_changed else row["gtin"]
        if gtins_changed:
            done.gtin_changed.append(pid)
        if gtins_changed or any(row[k] != v for k, v in values.items()):
            if any(row[k] != values[k] for k in EMBEDDED_TEXT):
                done.text_changed.append(row["pk"])
            done.product_rows.append({**values, "tenant_id": tenant.pk, "external_id": pid, "updated_at": now})
    written = bulk.upsert(
        Product,
        done.product_rows,
        defaults=bulk.column_defaults(Product, now),
        conflict=("tenant", "external_id"),
        update=(*PRODUCT_FIELDS, "gtin", "updated_at"),
        returning=("id", "external_id"),
    )
    done.pk_of = {pid: row["pk"] for pid, row in stored.products.items()} | {ext: pk for pk, ext in written}
    done.changed.update(done.pk_of[row["external_id"]] for row in done.product_rows)
    return done


def _options_write(tenant: Tenant, by_id: dict[int, tuple[int, dict]], stored: _Stored, done: _Written) -> None:
    """Upsert options by (product, position) where changed, drop the positions no longer sent."""
    rows, keep = [], set()
    for pid, (_, item) in by_id.items():
        for o in item.get("options", []):
            key = (done.pk_of[pid], o["position"])
            keep.add(key)
            option = stored.options.get(key)
            if option is None or option[1:] != (o.get("id"), o["name"], o["values"]):
                rows.append(
                    {
                        "tenant_id": tenant.pk,
                        "product_id": key[0],
                        "position": key[1],
                        "external_id": o.get("id"),
                        "name": o["name"],
                        "values": o["values"],
                    }
                )
    bulk.upsert(
        ProductOption, rows, defaults={}, conflict=("product", "position"), update=("external_id", "name", "values")
    )
    stale = [(key, option[0]) for key, option in stored.options.items() if key not in keep]
    if stale:
        ProductOption.objects.filter(pk__in=[pk for _, pk in stale]).delete()
    done.changed.update(row["product_id"] for row in rows)
    done.changed.update(key[0] for key, _ in stale)


def _variants_write(tenant: Tenant, by_id: dict[int, tuple[int, dict]], stored: _Stored, done: _Written, now) -> None:
    """Upsert variants by id where changed, drop the synced products' variants no longer sent."""
    rows, sent = [], set()
    for pid, (_, item) in by_id.items():
        for n, v in enumerate(item.get("variants", []), start=1):
            values = _variant_values(v, product_id=done.pk_of[pid], position=n, now=now)
            sent.add(v["id"])
            row = stored.variants.get(v["id"])
            if row is None:
                done.new_variants.append(v["id"])
            else:
                if not v.get("created_at"):
                    values["created_at"] = row["created_at"]
                if all(row[k] == values[k] for k in VARIANT_FIELDS if k != "created_at"):
                    continue
            rows.append({**values, "tenant_id": tenant.pk, "external_id": v["id"], "updated_at": now})
    bulk.upsert(
        Variant,
        rows,
        defaults={},
        conflict=("tenant", "external_id"),
        update=(*(f for f in VARIANT_FIELDS if f != "created_at"), "updated_at"),
    )
    synced = {done.pk_of[pid] for pid in by_id}
    stale = [row for vid, row in stored.variants.items() if vid not in sent and row["product_id"] in synced]
    if stale:
        Variant.objects.filter(pk__in=[row["pk"] for row in stale]).delete()
    done.changed.update(row["product_id"] for row in (*rows, *stale))


def _gtins_write(tenant: Tenant, stored: _Stored, wanted_gtins: dict[int, dict], done: _Written) -> None:
    """GTINs come from the variants' barcodes (only valid GS1 codes; shops often keep SKUs there): rewritten
    for the products whose barcodes changed, with their duplicate clusters."""
    if not done.gtin_changed:
        return
    pk_of = done.pk_of
    replaced = [pk_of[pid] for pid in done.gtin_changed if pk_of[pid] in stored.gtins]
    if replaced:
        ProductGtin.objects.filter(product_id__in=replaced).delete()
    bulk.upsert(
        ProductGtin,
        [
            {"tenant_id": tenant.pk, "product_id": pk_of[pid], "gtin": code, "position": n, "restricted": r}
            for pid in done.gtin_changed
            for n, (code, r) in enumerate(wanted_gtins[pid].items())
        ],
        defaults={"code": "", "valid": True},  # barcodes are stored only when valid GS1 codes
        conflict=(),
        update=None,
    )
    refresh = _cluster_candidates(tenant, stored.products, wanted_gtins, done.gtin_changed, pk_of)
    if refresh:
        services.clusters_refresh(tenant=tenant, product_ids=refresh)
        done.clusters_moved = True


def _cluster_candidates(
    tenant: Tenant, existing: dict[int, dict], wanted_gtins: dict[int, dict], changed: list[int], pk_of: dict
) -> list[int]:
    """The products among ``changed`` (GTINs just rewritten) whose duplicate cluster can change.

    clusters_refresh would leave the others as they are: a product that shares no GTIN with another product,
    had no cluster and neither links nor is linked to another product stays alone. Skipping them saves its
    component walk over every synced product (most syncs create products with their own barcodes).
    """
    codes = {code for pid in changed for code in wanted_gtins[pid]}
    shared = set()
    if codes:
        shared = set(
            ProductGtin.objects.for_tenant(tenant)
            .filter(bulk.any_of("gtin", codes))
            .values("gtin")
            .annotate(products=Count("product_id", distinct=True))
            .filter(products__gt=1)
            .values_list("gtin", flat=True)
        )
    relinked = [pk_of[pid] for pid in changed if pid in existing]
    linked_to = set()
    if relinked:
        linked_to = set(
            Product.objects.for_tenant(tenant)
            .filter(bulk.any_of("canonical_link_id", relinked))
            .values_list("canonical_link_id", flat=True)
        )
    return [
        pk_of[pid]
        for pid in changed
        if pk_of[pid] in linked_to
        or (pid in existing and (existing[pid]["cluster_id"] or existing[pid]["canonical_link_id"]))
        or not shared.isdisjoint(wanted_gtins[pid])
    ]


@retry_deadlock
@transaction.atomic
def products_sync(*, tenant: Tenant, items: list[tuple[int, dict]]) -> dict[str, list]:
    """Upsert Shopify products with their options, variants and GTINs (from variant barcodes).

    ``items`` are (position in the request, validated product). Returns the
    external ids created and updated and the items rejected with their errors.
    Only rows whose values change are written (``updated_at`` means a change),
    with a fixed number of statements per call.
    """
    rejected: list[dict] = []
    now = timezone.now()
    by_id = _one_per_id(items, rejected, "product")
    if not by_id:
        return {"created": [], "updated": [], "rejected": rejected}
    bulk.prefer_index_lookups()  # the look-ups below probe unique indexes for 1,000-3,000 keys each
    # Two calls syncing the same products at once run one after the other from here: each reads what the
    # other committed, so every product ends as one payload, never a mix of two.
    keys_lock("product", tenant.pk, by_id)
    stored = _Stored(products=_stored_products(tenant, by_id))
    claimed = {v["id"]: pid for pid, (_, item) in by_id.items() for v in item.get("variants", [])}
    _reject_variants_sent_twice(by_id, rejected)
    stored.variants = _stored_variants(tenant, claimed, [row["pk"] for row in stored.products.values()])
    _reject_variants_of_other_products(by_id, claimed, stored.variants, rejected)
    _stored_rows_below(stored, [row["pk"] for pid, row in stored.products.items() if pid in by_id])

    wanted_gtins = {pid: _gtins(item.get("variants", [])) for pid, (_, item) in by_id.items()}
    done = _products_write(tenant, by_id, stored, wanted_gtins, now)
    _options_write(tenant, by_id, stored, done)
    _variants_write(tenant, by_id, stored, done, now)
    _gtins_write(tenant, stored, wanted_gtins, done)
    # Orders synced before their variants: link their lines now and roll those sales up. A variant stored
    # before this call had its lines linked when it arrived (or when the order did), so only new ones can.
    if done.new_variants:
        _link_order_lines(tenant, done.new_variants)
    after_write.products_written(
        tenant=tenant,
        created=[done.pk_of[pid] for pid in done.created],
        text_changed=done.text_changed,
        categorised={row["pk"] for row in stored.products.values() if row["category_id"] is not None},
        changed=done.changed,
        clusters_moved=done.clusters_moved,
    )
    rejected.sort(key=lambda r: r["index"])
    return {
        "created": done.created,
        "updated": [pid for pid in by_id if pid in stored.products],
        "rejected": rejected,
    }


def _link_order_lines(tenant: Tenant, variant_external_ids: Iterable[int]) -> None:
    ids = list(variant_external_ids)
    lines = OrderLine.objects.for_tenant(tenant).filter(bulk.any_of("variant_external_id", ids), variant__isnull=True)
    if not lines.exists():
        return
    variants = Variant.objects.for_tenant(tenant).filter(external_id=OuterRef("variant_external_id"))
    lines.update(
        variant_id=Subquery(variants.values("pk")[:1]),
        product_id=Subquery(variants.values("product_id")[:1]),
    )
    pairs = {
        (v, created.astimezone(UTC).date())
        for v, created in OrderLine.objects.for_tenant(tenant)
        .filter(bulk.any_of("variant__external_id", ids), variant__isnull=False)
        .values_list("variant_id", "order__created_at")
    }
    services.daily_sales_rollup(tenant=tenant, pairs=pairs)


def _line_key(li: dict) -> tuple:
    """A line item as stored: (product id, variant id, quantity, price, discount)."""
    return (
        li["product_id"],
        li.get("variant_id"),
        li["quantity"],
        Decimal(str(li["price"])),
        Decimal(str(li.get("total_discount") or 0)),
    )


@retry_deadlock
@transaction.atomic
def orders_sync(*, tenant: Tenant, items: list[tuple[int, dict]]) -> dict[str, list]:
    """Upsert Shopify orders (de-duplicated by id), replace their lines and roll the affected days up.

    Lines may name products or variants not synced yet: they are kept and
    linked when those arrive. A line whose variant belongs to another product
    rejects its order.
    """
    rejected: list[dict] = []
    by_id = _one_per_id(items, rejected, "order")
    # Copies of one order delivered at once (a webhook retried beside a scheduled sync) run one after the
    # other from here: the later copy finds the order and its lines stored and changes nothing.
    keys_lock("order", tenant.pk, by_id)
    product_ext = {li["product_id"] for _, item in by_id.values() for li in item["line_items"]}
    variant_ext = {li["variant_id"] for _, item in by_id.values() for li in item["line_items"] if li.get("variant_id")}
    product_pk = dict(
        Product.objects.for_tenant(tenant)
        .filter(bulk.any_of("external_id", product_ext))
        .values_list("external_id", "pk")
    )
    variant_info = {
        ext: (pk, product_id, owner)
        for ext, pk, product_id, owner in Variant.objects.for_tenant(tenant)
        .filter(bulk.any_of("external_id", variant_ext))
        .values_list("external_id", "pk", "product_id", "product__external_id")
    }
    for oid, (i, item) in list(by_id.items()):
        for n, li in enumerate(item["line_items"]):
            info = variant_info.get(li.get("variant_id"))
            if info is not None and info[2] != li["product_id"]:
                _reject(
                    rejected,
                    i,
                    oid,
                    f"line_items.{n}.variant_id",
                    f"Variant {li['variant_id']} belongs to product {info[2]}, not {li['product_id']}.",
                )
                del by_id[oid]
                break

    existing = {
        o.external_id: o
        for o in Order.objects.for_tenant(tenant)
        .filter(bulk.any_of("external_id", by_id))
        .only("pk", "external_id", "created_at", "cancelled_at")
    }
    stored_lines: dict[int, Counter] = {}
    stored_pairs: dict[int, set] = {}
    if existing:
        for order_id, variant_id, created, *line in OrderLine.objects.filter(
            bulk.any_of("order_id", [o.pk for o in existing.values()])
        ).values_list(
            "order_id",
            "variant_id",
            "order__created_at",
            "product_external_id",
            "variant_external_id",
            "quantity",
            "price",
            "total_discount",
        ):
            stored_lines.setdefault(order_id, Counter())[tuple(line)] += 1
            if variant_id is not None:
                stored_pairs.setdefault(order_id, set()).add((variant_id, created.astimezone(UTC).date()))
    # An order sent again exactly as stored keeps its rows and its days are not rolled up again:
    # resending a sync payload changes nothing.
    unchanged = {
        oid
        for oid, order in existing.items()
        if order.created_at == by_id[oid][1]["created_at"]
        and order.cancelled_at == by_id[oid][1].get("cancelled_at")
        and stored_lines.get(order.pk, Counter()) == Counter(_line_key(li) for li in by_id[oid][1]["line_items"])
    }
    pairs: set = set()
    for oid, order in existing.items():
        if oid not in unchanged:
            pairs |= stored_pairs.get(order.pk, set())
    # New orders and changed ones in one upsert (synced_at: the time of the last change).
    now = timezone.now()
    order_rows = [
        {
            "tenant_id": tenant.pk,
            "external_id": oid,
            "created_at": item["created_at"],
            "cancelled_at": item.get("cancelled_at"),
            "synced_at": now,
        }
        for oid, (_, item) in by_id.items()
        if oid not in existing
        or existing[oid].created_at != item["created_at"]
        or existing[oid].cancelled_at != item.get("cancelled_at")
    ]
    written = bulk.upsert(
        Order,
        order_rows,
        defaults={},
        conflict=("tenant", "external_id"),
        update=("created_at", "cancelled_at", "synced_at"),
        returning=("id", "external_id"),
    )
    order_pk = {oid: o.pk for oid, o in existing.items()} | {oid: pk for pk, oid in written}
    replaced = [o.pk for oid, o in existing.items() if oid not in unchanged]
    if replaced:
        OrderLine.objects.filter(bulk.any_of("order_id", replaced)).delete()
    lines = []
    for oid, (_, item) in by_id.items():
        if oid in unchanged:
            continue
        day = item["created_at"].astimezone(UTC).date()
        for li in item["line_items"]:
            info = variant_info.get(li.get("variant_id"))
            lines.append(
                {
                    "tenant_id": tenant.pk,
                    "order_id": order_pk[oid],
                    "product_id": product_pk.get(li["product_id"]),
                    "variant_id": info[0] if info else None,
                    "product_external_id": li["product_id"],
                    "variant_external_id": li.get("variant_id"),
                    "quantity": li["quantity"],
                    "price": li["price"],
                    "total_discount": li.get("total_discount") or 0,
                }
            )
            if info:
                pairs.add((info[0], day))
    bulk.upsert(OrderLine, lines, defaults={}, conflict=(), update=None)
    services.daily_sales_rollup(tenant=tenant, pairs=pairs)
    rejected.sort(key=lambda r: r["index"])
    return {
        "created": [oid for oid in by_id if oid not in existing],
        "updated": [oid for oid in by_id if oid in existing],
        "rejected": rejected,
    }
