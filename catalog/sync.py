"""Platform sync: Shopify products and orders into the product master (DESIGN.md "Platform surface").

Each call upserts up to 1000 validated items in one transaction with bulk
statements (a fixed number of queries per call, not per item or field). An
item that cannot be applied is rejected whole, with the reason; the others
are applied. Re-sending the same payload changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from catalog import index, services
from catalog.gtin import normalise_or_none
from catalog.models import Category, Order, OrderLine, Product, ProductGtin, ProductOption, Variant
from core import bulk
from core.locks import keys_lock, retry_deadlock
from core.outbox import enqueue
from tenants.models import Tenant

PRODUCT_FIELDS = ("name", "description", "image", "brand", "product_type", "handle", "status", "tags", "created_at")
VARIANT_FIELDS = (
    "product_id",
    "title",
    "option1",
    "option2",
    "option3",
    "price",
    "compare_at_price",
    "cost",
    "sku",
    "barcode",
    "inventory_quantity",
    "inventory_tracked",
    "continue_selling",
    "inventory_item_id",
    "position",
    "created_at",
)


def _reject(rejected: list[dict], index_: int, item_id: Any, field: str, message: str) -> None:
    rejected.append({"index": index_, "id": item_id, "errors": {field: [message]}})


def _product_values(item: dict, now) -> dict:
    image = item.get("image") or {}
    return {
        "name": item["title"],
        "description": item.get("body_html") or "",
        "image": image.get("src", "") if image else "",
        "brand": item.get("vendor") or "",
        "product_type": item.get("product_type") or "",
        "handle": item.get("handle") or "",
        "status": item.get("status") or "active",
        "tags": item.get("tags") or "",
        "created_at": item.get("created_at") or now,
    }


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


def _variant_values(v: dict, position: int, now) -> dict:
    return {
        "title": v.get("title") or "",
        "option1": v.get("option1") or "",
        "option2": v.get("option2") or "",
        "option3": v.get("option3") or "",
        "price": v["price"],
        "compare_at_price": v.get("compare_at_price"),
        "cost": v.get("cost"),
        "sku": v.get("sku") or "",
        "barcode": v.get("barcode") or "",
        "inventory_quantity": v.get("inventory_quantity") or 0,
        "inventory_tracked": _tracked(v),
        "continue_selling": v.get("inventory_policy") == "continue",
        "inventory_item_id": v.get("inventory_item_id"),
        "position": position,
        "created_at": v.get("created_at") or now,
    }


def _gtins(variants: list[dict]) -> dict[str, bool]:
    """The product's GTINs from its variants' barcodes, in order: normalised code -> restricted."""
    wanted: dict[str, bool] = {}
    for v in variants:
        code = normalise_or_none(v.get("barcode") or "")
        if code is not None:
            wanted.setdefault(code.normalised, code.restricted)
    return wanted


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
    by_id: dict[int, tuple[int, dict]] = {}
    for i, item in items:
        if item["id"] in by_id:
            _reject(rejected, i, item["id"], "id", "Duplicate product id in this request.")
        else:
            by_id[item["id"]] = (i, item)
    if not by_id:
        return {"created": [], "updated": [], "rejected": rejected}
    if connection.vendor == "postgresql":
        # This call's look-ups probe unique indexes for 1,000-3,000 keys each. Under PostgreSQL's default
        # random_page_cost (4, priced for spinning disks) the planner switches to a parallel scan of the whole
        # table once it holds a few hundred thousand rows (EXPLAIN ANALYZE, 300,000 variants: 53-135 ms for
        # 3,000 ids, linear in the catalog), where the index answers in 2 ms; 1.1 prices random reads as the
        # SSDs this runs on serve them. SET LOCAL: this transaction only.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL random_page_cost = 1.1")
    # Two calls syncing the same products at once run one after the other from here: each reads what the
    # other committed, so every product ends as one payload, never a mix of two.
    keys_lock("product", tenant.pk, by_id)
    existing = {
        row["external_id"]: row
        for row in Product.objects.for_tenant(tenant)
        .filter(bulk.any_of("external_id", by_id))
        .values("pk", "external_id", "gtin", "cluster_id", "canonical_link_id", *PRODUCT_FIELDS)
    }
    existing_pks = [row["pk"] for row in existing.values()]
    # A variant id belongs to one product: an item claiming another product's variant is rejected whole.
    variant_ids = {v["id"]: pid for pid, (_, item) in by_id.items() for v in item.get("variants", [])}
    seen_variants: dict[int, int] = {}
    for pid, (i, item) in list(by_id.items()):
        clash = next((v["id"] for v in item.get("variants", []) if seen_variants.get(v["id"], pid) != pid), None)
        if clash is None:
            for v in item.get("variants", []):
                seen_variants[v["id"]] = pid
        else:
            _reject(rejected, i, pid, "variants", f"Variant {clash} appears under another product in this request.")
            del by_id[pid]
    # The variants named in the request and all variants of the products synced, with what is stored.
    # UNION ALL of two lookups, each with its own index: with OR, PostgreSQL scanned the whole variant table
    # (EXPLAIN at 90,000 variants: a 28 ms parallel seq scan, growing with the catalog).
    variants = Variant.objects.for_tenant(tenant).order_by()
    columns = ("pk", "external_id", "product__external_id", *VARIANT_FIELDS)
    stored_variants = {
        row["external_id"]: row
        for row in variants.filter(bulk.any_of("external_id", variant_ids))
        .values(*columns)
        .union(variants.filter(bulk.any_of("product_id", existing_pks)).values(*columns), all=True)
    }
    for vid, row in stored_variants.items():
        pid, owner = variant_ids.get(vid), row["product__external_id"]
        if pid is not None and owner != pid and pid in by_id:
            _reject(rejected, by_id[pid][0], pid, "variants", f"Variant {vid} belongs to product {owner}.")
            del by_id[pid]
    synced_existing = [row["pk"] for pid, row in existing.items() if pid in by_id]
    stored_options: dict[tuple[int, int], tuple] = {}
    stored_gtins: dict[int, list[str]] = {pk: [] for pk in synced_existing}
    if synced_existing:
        for pk, product_id, position, external_id, name, values in ProductOption.objects.filter(
            bulk.any_of("product_id", synced_existing)
        ).values_list("pk", "product_id", "position", "external_id", "name", "values"):
            stored_options[(product_id, position)] = (pk, external_id, name, values)
        for product_id, code in (
            ProductGtin.objects.filter(bulk.any_of("product_id", synced_existing))
            .order_by("position")
            .values_list("product_id", "gtin")
        ):
            stored_gtins[product_id].append(code)

    # Products: insert the new ones, update only those whose values (or GTINs) changed.
    wanted_gtins = {pid: _gtins(item.get("variants", [])) for pid, (_, item) in by_id.items()}
    created_ids = [pid for pid in by_id if pid not in existing]
    product_rows, text_changed, gtin_changed_ext = [], [], []
    for pid in created_ids:
        values = _product_values(by_id[pid][1], now)
        gtins = wanted_gtins[pid]
        product_rows.append(
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
            gtin_changed_ext.append(pid)
    for pid, row in existing.items():
        if pid not in by_id:
            continue
        item = by_id[pid][1]
        values = _product_values(item, now)
        if not item.get("created_at"):
            values["created_at"] = row["created_at"]
        gtins = wanted_gtins[pid]
        gtins_changed = list(gtins) != stored_gtins[row["pk"]]
        values["gtin"] = next(iter(gtins), "") if gtins_changed else row["gtin"]
        if gtins_changed:
            gtin_changed_ext.append(pid)
        if gtins_changed or any(row[k] != v for k, v in values.items()):
            if any(row[k] != values[k] for k in ("name", "description", "brand")):
                text_changed.append(row["pk"])
            product_rows.append({**values, "tenant_id": tenant.pk, "external_id": pid, "updated_at": now})
    written = bulk.upsert(
        Product,
        product_rows,
        defaults=bulk.column_defaults(Product, now),
        conflict=("tenant", "external_id"),
        update=(*PRODUCT_FIELDS, "gtin", "updated_at"),
        returning=("id", "external_id"),
    )
    pk_of = {pid: row["pk"] for pid, row in existing.items()} | {ext: pk for pk, ext in written}

    # Options: upsert by (product, position) where changed, drop positions no longer sent.
    option_rows, keep_options = [], set()
    for pid, (_, item) in by_id.items():
        for o in item.get("options", []):
            key = (pk_of[pid], o["position"])
            keep_options.add(key)
            stored = stored_options.get(key)
            if stored is None or stored[1:] != (o.get("id"), o["name"], o["values"]):
                option_rows.append(
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
        ProductOption,
        option_rows,
        defaults={},
        conflict=("product", "position"),
        update=("external_id", "name", "values"),
    )
    stale_options = [stored[0] for key, stored in stored_options.items() if key not in keep_options]

    # Variants: upsert by id where changed, drop the product's variants no longer sent.
    variant_rows, sent, new_variants = [], set(), []
    for pid, (_, item) in by_id.items():
        for n, v in enumerate(item.get("variants", []), start=1):
            values = _variant_values(v, n, now)
            values["product_id"] = pk_of[pid]
            sent.add(v["id"])
            stored = stored_variants.get(v["id"])
            if stored is None:
                new_variants.append(v["id"])
            else:
                if not v.get("created_at"):
                    values["created_at"] = stored["created_at"]
                if all(stored[k] == values[k] for k in VARIANT_FIELDS if k != "created_at"):
                    continue
            variant_rows.append({**values, "tenant_id": tenant.pk, "external_id": v["id"], "updated_at": now})
    bulk.upsert(
        Variant,
        variant_rows,
        defaults={},
        conflict=("tenant", "external_id"),
        update=(*(f for f in VARIANT_FIELDS if f != "created_at"), "updated_at"),
    )
    synced = set(pk_of[pid] for pid in by_id)
    stale_variants = [
        row["pk"] for vid, row in stored_variants.items() if vid not in sent and row["product_id"] in synced
    ]
    if stale_options:
        ProductOption.objects.filter(pk__in=stale_options).delete()
    if stale_variants:
        Variant.objects.filter(pk__in=stale_variants).delete()

    clusters_moved = False
    # GTINs come from the variants' barcodes (only valid GS1 codes; shops often keep SKUs there).
    gtin_changed = [pk_of[pid] for pid in gtin_changed_ext]
    if gtin_changed:
        replaced = [pk for pk in gtin_changed if pk in stored_gtins]
        if replaced:
            ProductGtin.objects.filter(product_id__in=replaced).delete()
        bulk.upsert(
            ProductGtin,
            [
                {"tenant_id": tenant.pk, "product_id": pk_of[pid], "gtin": code, "position": n, "restricted": r}
                for pid in gtin_changed_ext
                for n, (code, r) in enumerate(wanted_gtins[pid].items())
            ],
            defaults={"code": "", "valid": True},  # barcodes are stored only when valid GS1 codes
            conflict=(),
            update=None,
        )
        refresh = _cluster_candidates(tenant, existing, wanted_gtins, gtin_changed_ext, pk_of)
        if refresh:
            services.clusters_refresh(tenant=tenant, product_ids=refresh)
            clusters_moved = True

    # Orders synced before their variants: link their lines now and roll those sales up. A variant stored
    # before this call had its lines linked when it arrived (or when the order did), so only new ones can.
    if new_variants:
        _link_order_lines(tenant, new_variants)

    from catalog import tasks

    created_pks = [pk_of[pid] for pid in created_ids if pid in by_id]
    if created_pks or text_changed:
        # Embedding is ~40% of a create call's time: a worker does it after the commit (inline when eager).
        to_embed = created_pks + text_changed
        enqueue(tasks.products_embed, tenant.pk, to_embed)
    changed = {pk_of[row["external_id"]] for row in product_rows}
    changed.update(row["product_id"] for row in (*option_rows, *variant_rows))
    changed.update(key[0] for key, stored in stored_options.items() if key not in keep_options)
    dropped = set(stale_variants)
    changed.update(row["product_id"] for row in stored_variants.values() if row["pk"] in dropped)
    if changed:
        # the written products are patched into every process's index; moved clusters can touch any product
        ids = None if clusters_moved else sorted(changed)
        transaction.on_commit(lambda: index.products_changed(tenant, ids))
    if created_pks and Category.objects.for_tenant(tenant).exists():
        enqueue(tasks.product_category_suggest, created_pks)
    rejected.sort(key=lambda r: r["index"])
    return {
        "created": [pid for pid in created_ids if pid in by_id],
        "updated": [pid for pid in by_id if pid in existing],
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
    by_id: dict[int, tuple[int, dict]] = {}
    for i, item in items:
        if item["id"] in by_id:
            _reject(rejected, i, item["id"], "id", "Duplicate order id in this request.")
        else:
            by_id[item["id"]] = (i, item)
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
