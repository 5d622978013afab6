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

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog import index, services
from catalog.gtin import normalise_or_none
from catalog.models import Category, Order, OrderLine, Product, ProductGtin, ProductOption, Variant
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
        # Shopify: inventory_management null means the shop does not track stock for the variant.
        "inventory_tracked": v.get("inventory_management") is not None,
        "continue_selling": v.get("inventory_policy") == "continue",
        "position": position,
        "created_at": v.get("created_at") or now,
    }


@transaction.atomic
def products_sync(*, tenant: Tenant, items: list[tuple[int, dict]]) -> dict[str, list]:
    """Upsert Shopify products with their options, variants and GTINs (from variant barcodes).

    ``items`` are (position in the request, validated product). Returns the
    external ids created and updated and the items rejected with their errors.
    """
    rejected: list[dict] = []
    now = timezone.now()
    by_id: dict[int, tuple[int, dict]] = {}
    for i, item in items:
        if item["id"] in by_id:
            _reject(rejected, i, item["id"], "id", "Duplicate product id in this request.")
        else:
            by_id[item["id"]] = (i, item)
    products = Product.objects.for_tenant(tenant)
    existing = {
        row["external_id"]: row
        for row in products.filter(external_id__in=list(by_id)).values("pk", "external_id", *PRODUCT_FIELDS)
    }
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
    owners = dict(
        Variant.objects.for_tenant(tenant)
        .filter(external_id__in=list(variant_ids))
        .values_list("external_id", "product__external_id")
    )
    for vid, owner in owners.items():
        pid = variant_ids[vid]
        if owner != pid and pid in by_id:
            _reject(rejected, by_id[pid][0], pid, "variants", f"Variant {vid} belongs to product {owner}.")
            del by_id[pid]

    # Products: insert new ones, update only rows whose values changed (so updated_at means a change).
    created_ids = [pid for pid in by_id if pid not in existing]
    new_products = []
    for pid in created_ids:
        values = _product_values(by_id[pid][1], now)
        new_products.append(
            Product(tenant=tenant, external_id=pid, suggested_category_name=values["product_type"], **values)
        )
    Product.objects.bulk_create(new_products, batch_size=500)
    changed_products, text_changed = [], []
    for pid, row in existing.items():
        if pid not in by_id:
            continue
        values = _product_values(by_id[pid][1], now)
        if not by_id[pid][1].get("created_at"):
            values["created_at"] = row["created_at"]
        if any(row[k] != v for k, v in values.items()):
            if any(row[k] != values[k] for k in ("name", "description", "brand")):
                text_changed.append(row["pk"])
            obj = Product(pk=row["pk"], updated_at=now, **values)
            changed_products.append(obj)
    Product.objects.bulk_update(changed_products, [*PRODUCT_FIELDS, "updated_at"], batch_size=500)
    pk_of = {p.external_id: p.pk for p in new_products} | {pid: row["pk"] for pid, row in existing.items()}
    synced_pks = [pk_of[pid] for pid in by_id]

    # Options: upsert by (product, position), drop positions no longer sent.
    options = [
        ProductOption(
            tenant=tenant,
            product_id=pk_of[pid],
            external_id=o.get("id"),
            name=o["name"],
            position=o["position"],
            values=o["values"],
        )
        for pid, (_, item) in by_id.items()
        for o in item.get("options", [])
    ]
    ProductOption.objects.bulk_create(
        options,
        update_conflicts=True,
        unique_fields=["product", "position"],
        update_fields=["external_id", "name", "values"],
        batch_size=500,
    )
    keep_options = {(o.product_id, o.position) for o in options}
    stale = [
        pk
        for pk, product_id, position in ProductOption.objects.filter(product_id__in=synced_pks).values_list(
            "pk", "product_id", "position"
        )
        if (product_id, position) not in keep_options
    ]
    ProductOption.objects.filter(pk__in=stale).delete()

    # Variants: upsert by id, drop the product's variants no longer sent.
    variants = [
        Variant(tenant=tenant, product_id=pk_of[pid], external_id=v["id"], **_variant_values(v, n, now))
        for pid, (_, item) in by_id.items()
        for n, v in enumerate(item.get("variants", []), start=1)
    ]
    Variant.objects.bulk_create(
        variants,
        update_conflicts=True,
        unique_fields=["tenant", "external_id"],
        update_fields=[f for f in VARIANT_FIELDS if f != "created_at"] + ["updated_at"],
        batch_size=500,
    )
    sent = {v.external_id for v in variants}
    Variant.objects.filter(product_id__in=synced_pks).exclude(external_id__in=sent).delete()

    # GTINs come from the variants' barcodes (only valid GS1 codes; shops often keep SKUs there).
    wanted: dict[int, dict[str, bool]] = {pk: {} for pk in synced_pks}
    for v in variants:
        code = normalise_or_none(v.barcode)
        if code is not None:
            wanted[v.product_id].setdefault(code.normalised, code.restricted)
    current: dict[int, list[str]] = {pk: [] for pk in synced_pks}
    for product_id, code in (
        ProductGtin.objects.filter(product_id__in=synced_pks).order_by("position").values_list("product_id", "gtin")
    ):
        current[product_id].append(code)
    gtin_changed = [pk for pk in synced_pks if list(wanted[pk]) != current[pk]]
    if gtin_changed:
        ProductGtin.objects.filter(product_id__in=gtin_changed).delete()
        ProductGtin.objects.bulk_create(
            [
                ProductGtin(tenant=tenant, product_id=pk, gtin=code, position=n, restricted=restricted)
                for pk in gtin_changed
                for n, (code, restricted) in enumerate(wanted[pk].items())
            ],
            batch_size=1000,
        )
        Product.objects.bulk_update(
            [Product(pk=pk, gtin=next(iter(wanted[pk]), ""), updated_at=now) for pk in gtin_changed],
            ["gtin", "updated_at"],
            batch_size=500,
        )
        services.clusters_refresh(tenant=tenant, product_ids=gtin_changed)

    # Orders synced before their products: link their lines now and roll those sales up.
    _link_order_lines(tenant, sent)

    created_pks = [pk_of[pid] for pid in created_ids if pid in by_id]
    index.embeddings_refresh(tenant=tenant, product_ids=created_pks + text_changed)
    transaction.on_commit(lambda: index.products_changed(tenant))
    if created_pks and Category.objects.for_tenant(tenant).exists():
        from catalog import tasks

        transaction.on_commit(lambda: tasks.product_category_suggest.delay(created_pks))
    rejected.sort(key=lambda r: r["index"])
    return {
        "created": [pid for pid in created_ids if pid in by_id],
        "updated": [pid for pid in by_id if pid in existing],
        "rejected": rejected,
    }


def _link_order_lines(tenant: Tenant, variant_external_ids: Iterable[int]) -> None:
    ids = list(variant_external_ids)
    lines = OrderLine.objects.for_tenant(tenant).filter(variant__isnull=True, variant_external_id__in=ids)
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
        .filter(variant__external_id__in=ids, variant__isnull=False)
        .values_list("variant_id", "order__created_at")
    }
    services.daily_sales_rollup(tenant=tenant, pairs=pairs)


@transaction.atomic
def _line_key(li: dict) -> tuple:
    """A line item as stored: (product id, variant id, quantity, price, discount)."""
    return (
        li["product_id"],
        li.get("variant_id"),
        li["quantity"],
        Decimal(str(li["price"])),
        Decimal(str(li.get("total_discount") or 0)),
    )


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
    product_ext = {li["product_id"] for _, item in by_id.values() for li in item["line_items"]}
    variant_ext = {li["variant_id"] for _, item in by_id.values() for li in item["line_items"] if li.get("variant_id")}
    product_pk = dict(
        Product.objects.for_tenant(tenant).filter(external_id__in=product_ext).values_list("external_id", "pk")
    )
    variant_info = {
        ext: (pk, product_id, owner)
        for ext, pk, product_id, owner in Variant.objects.for_tenant(tenant)
        .filter(external_id__in=variant_ext)
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

    orders = Order.objects.for_tenant(tenant)
    existing = {o.external_id: o for o in orders.filter(external_id__in=list(by_id))}
    stored_lines: dict[int, Counter] = {}
    stored_pairs: dict[int, set] = {}
    if existing:
        for order_id, variant_id, created, *line in OrderLine.objects.filter(
            order_id__in=[o.pk for o in existing.values()]
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
    new_orders = [
        Order(tenant=tenant, external_id=oid, created_at=item["created_at"], cancelled_at=item.get("cancelled_at"))
        for oid, (_, item) in by_id.items()
        if oid not in existing
    ]
    Order.objects.bulk_create(new_orders, batch_size=500)
    changed = []
    for oid, order in existing.items():
        item = by_id[oid][1]
        if order.created_at != item["created_at"] or order.cancelled_at != item.get("cancelled_at"):
            order.created_at = item["created_at"]
            order.cancelled_at = item.get("cancelled_at")
            order.synced_at = timezone.now()  # bulk_update does not apply auto_now
            changed.append(order)
    Order.objects.bulk_update(changed, ["created_at", "cancelled_at", "synced_at"], batch_size=500)
    order_of = {o.external_id: o for o in new_orders} | existing
    OrderLine.objects.filter(order_id__in=[o.pk for oid, o in existing.items() if oid not in unchanged]).delete()
    lines = []
    for oid, (_, item) in by_id.items():
        if oid in unchanged:
            continue
        order = order_of[oid]
        for li in item["line_items"]:
            info = variant_info.get(li.get("variant_id"))
            lines.append(
                OrderLine(
                    tenant=tenant,
                    order=order,
                    product_id=product_pk.get(li["product_id"]),
                    variant_id=info[0] if info else None,
                    product_external_id=li["product_id"],
                    variant_external_id=li.get("variant_id"),
                    quantity=li["quantity"],
                    price=li["price"],
                    total_discount=li.get("total_discount") or 0,
                )
            )
            if info:
                pairs.add((info[0], order.created_at.astimezone(UTC).date()))
    OrderLine.objects.bulk_create(lines, batch_size=1000)
    services.daily_sales_rollup(tenant=tenant, pairs=pairs)
    rejected.sort(key=lambda r: r["index"])
    return {
        "created": [o.external_id for o in new_orders],
        "updated": [oid for oid in by_id if oid in existing],
        "rejected": rejected,
    }
