"""Shopify webhook intake: verify, record once, process in a task through the sync API's own services.

The intake (``delivery_accept``) does only what must happen before Shopify's 5-second budget runs out:
the caller has checked the HMAC signature of the raw body, then the delivery is stored once per
``X-Shopify-Event-Id`` (a repeat is answered 200 and dropped) and a task is queued after the commit.
The task (``delivery_process``) takes the delivery's row lock, drops it as stale when the shop object it
is about was already updated by a delivery triggered later (``X-Shopify-Triggered-At``, kept per object in
``WebhookWatermark``), and otherwise hands the payload to the handler of its topic. Handlers call the same
services as ``/api/platform/v1/`` sync calls; merchandising registers the collection topics
(merchandising/webhook_handlers.py), since catalog imports no app built on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog import after_write, services, sync
from catalog.models import InventoryLevel, Product, Variant, WebhookDelivery, WebhookWatermark
from core.outbox import enqueue
from tenants.models import Tenant

log = logging.getLogger("catalog.webhooks")

# Deliveries are kept (and so de-duplicated) this long; Shopify retries a failed delivery for 48 hours.
KEEP_DELIVERIES = timedelta(days=7)
# A delivery still "received" after this long lost its task (broker down, worker killed): queue it again.
REQUEUE_AFTER = timedelta(minutes=2)


def signature_valid(body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """Shopify's ``X-Shopify-Hmac-Sha256``: base64 of HMAC-SHA256 over the raw body with the app secret.

    Compared in constant time against every accepted secret (two during a rotation)."""
    if not signature:
        return False
    given = signature.strip().encode()
    valid = False
    for secret in secrets:
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
        valid |= hmac.compare_digest(expected, given)
    return valid


def delivery_accept(
    *, tenant: Tenant, event_id: str, topic: str, triggered_at: datetime | None, payload: Any
) -> tuple[WebhookDelivery, bool]:
    """Store a verified delivery once; queue its processing after the commit. (delivery, is it new)."""
    from catalog import tasks

    with transaction.atomic():
        delivery, created = WebhookDelivery.objects.get_or_create(
            tenant=tenant,
            event_id=event_id,
            defaults={"topic": topic, "triggered_at": triggered_at, "payload": payload},
        )
        if created:
            pk = delivery.pk
            enqueue(tasks.webhook_process, pk)  # a broker outage never fails the delivery (config/celery.py)
    return delivery, created


# ---- handlers --------------------------------------------------------------------------------------------


class Rejected(Exception):
    """The payload failed the sync API's validation: nothing of it is applied."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(json.dumps(errors)[:2000])
        self.errors = errors


@dataclass(frozen=True)
class Handler:
    """What a topic is about (for the stale check) and how it is applied."""

    resource: Callable[[dict], tuple[str, str] | None]
    apply: Callable[[Tenant, dict], str]


HANDLERS: dict[str, Handler] = {}


def register(*topics: str, resource: Callable[[dict], tuple[str, str] | None]):
    def decorate(apply: Callable[[Tenant, dict], str]) -> Callable[[Tenant, dict], str]:
        for topic in topics:
            HANDLERS[topic] = Handler(resource=resource, apply=apply)
        return apply

    return decorate


def by_id(kind: str) -> Callable[[dict], tuple[str, str] | None]:
    def resource(payload: dict) -> tuple[str, str] | None:
        value = payload.get("id") if isinstance(payload, dict) else None
        return (kind, str(value)) if isinstance(value, int | str) and not isinstance(value, bool) else None

    return resource


def _sellable(tenant: Tenant, product_pks: Iterable[int]) -> dict[int, bool]:
    """Whether each product can be sold: a variant in stock, untracked, or selling when out of stock."""
    sellable_variant = Variant.objects.filter(product=OuterRef("pk")).filter(
        Q(inventory_quantity__gt=0) | Q(inventory_tracked=False) | Q(continue_selling=True)
    )
    rows = (
        Product.objects.for_tenant(tenant)
        .filter(pk__in=list(product_pks))
        .annotate(sellable=Exists(sellable_variant))
        .values_list("pk", "sellable")
    )
    return dict(rows)


def _announce_flips(tenant: Tenant, before: dict[int, bool], after: dict[int, bool]) -> None:
    flipped = [pk for pk, now in after.items() if pk in before and before[pk] != now]
    after_write.products_written(tenant=tenant, sellable_flipped=flipped)


def _validated(serializer_class: type, payload: dict) -> list[tuple[int, dict]]:
    from catalog.api.platform_serializers import validate_each  # the sync API's own validation

    valid, rejected = validate_each(serializer_class, [payload])
    if rejected:
        raise Rejected(rejected[0]["errors"])
    return valid


def _pks_of(tenant: Tenant, external_ids: Iterable[int]) -> list[int]:
    products = Product.objects.for_tenant(tenant).filter(external_id__in=list(external_ids))
    return list(products.values_list("pk", flat=True))


@register("products/create", "products/update", resource=by_id("product"))
def _product_upsert(tenant: Tenant, payload: dict) -> str:
    from catalog.api.platform_serializers import ShopifyProductSerializer

    valid = _validated(ShopifyProductSerializer, payload)
    before = _sellable(tenant, _pks_of(tenant, [valid[0][1]["id"]]))
    result = sync.products_sync(tenant=tenant, items=valid)
    if result["rejected"]:
        raise Rejected(result["rejected"][0]["errors"])
    after = _sellable(tenant, _pks_of(tenant, [valid[0][1]["id"]]))
    _announce_flips(tenant, before, after)
    return "created" if result["created"] else "updated"


@register("products/delete", resource=by_id("product"))
def _product_delete(tenant: Tenant, payload: dict) -> str:
    external_id = payload.get("id")
    if not isinstance(external_id, int) or isinstance(external_id, bool):
        raise Rejected({"id": ["A product id is required."]})
    deleted = services.products_delete(tenant=tenant, external_ids=[external_id])
    return "deleted" if deleted else "unknown product"


@register("orders/create", "orders/updated", "orders/cancelled", resource=by_id("order"))
def _order_upsert(tenant: Tenant, payload: dict) -> str:
    from catalog.api.platform_serializers import ShopifyOrderSerializer

    result = sync.orders_sync(tenant=tenant, items=_validated(ShopifyOrderSerializer, payload))
    if result["rejected"]:
        raise Rejected(result["rejected"][0]["errors"])
    return "created" if result["created"] else "updated"


def _inventory_level_resource(payload: dict) -> tuple[str, str] | None:
    item, location = payload.get("inventory_item_id"), payload.get("location_id")
    if isinstance(item, int) and isinstance(location, int):
        return "inventory_level", f"{item}:{location}"
    return None


def _int_field(payload: dict, name: str, low: int, high: int) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Rejected({name: [f"An integer from {low} to {high} is required."]})
    return value


@register("inventory_levels/update", resource=_inventory_level_resource)
def _inventory_level_update(tenant: Tenant, payload: dict) -> str:
    """One location's stock of one inventory item changed: move the variant's total by the difference.

    The first level heard of an item that has no other known location sets the total (a shop with one
    location, the common case); a further location adds its level. Once a location is known, each change
    moves the total by the difference, so a total set by a product sync stays right.
    """
    item = _int_field(payload, "inventory_item_id", 1, 2**63 - 1)
    location = _int_field(payload, "location_id", 1, 2**63 - 1)
    available = payload.get("available")
    if available is None:  # Shopify sends null when the item stops being stocked at the location
        available = 0
    elif not isinstance(available, int) or isinstance(available, bool) or not -(2**31) <= available < 2**31:
        raise Rejected({"available": ["An integer is required."]})
    variants = list(
        Variant.objects.for_tenant(tenant).select_for_update().filter(inventory_item_id=item).order_by("pk")
    )
    levels = {
        lv.location_id: lv
        for lv in InventoryLevel.objects.for_tenant(tenant).select_for_update().filter(inventory_item_id=item)
    }
    known = levels.get(location)
    previous = known.available if known is not None else None
    if known is None:
        InventoryLevel.objects.create(tenant=tenant, inventory_item_id=item, location_id=location, available=available)
    elif known.available != available:
        known.available = available
        known.save(update_fields=["available", "updated_at"])
    if not variants:
        return "no variant with this inventory item yet (level kept)"
    before = _sellable(tenant, [v.product_id for v in variants])
    for variant in variants:
        if previous is not None:
            total = variant.inventory_quantity + available - previous
        elif not levels:
            total = available
        else:
            total = variant.inventory_quantity + available
        total = max(min(total, 2**31 - 1), -(2**31))
        if total != variant.inventory_quantity:
            variant.inventory_quantity = total
            variant.save(update_fields=["inventory_quantity", "updated_at"])
    _announce_flips(tenant, before, _sellable(tenant, [v.product_id for v in variants]))
    return f"{len(variants)} variant(s) at {available} here"


# ---- processing ----------------------------------------------------------------------------------------


def delivery_process(*, delivery_id: int) -> str:
    """Apply one delivery (the task's body). Safe to run twice: a delivery is processed once, under its lock.

    Returns the state it ends in. A delivery about an object already updated by a later-triggered one is
    ``stale`` and changes nothing; one whose payload the sync API refuses is ``rejected`` with the errors.
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("tenant").filter(pk=delivery_id).first()
        if delivery is None or delivery.state != WebhookDelivery.State.RECEIVED:
            return "gone" if delivery is None else delivery.state
        state, detail = _apply(delivery)
        delivery.state, delivery.detail, delivery.processed_at = state, detail[:2000], timezone.now()
        delivery.save(update_fields=["state", "detail", "processed_at"])
    log.info("webhook %s %s: %s %s", delivery.topic, delivery.event_id, state, detail[:200])
    return state


def _apply(delivery: WebhookDelivery) -> tuple[str, str]:
    handler = HANDLERS.get(delivery.topic)
    if handler is None:
        return WebhookDelivery.State.IGNORED, f"topic {delivery.topic} is not handled"
    payload = delivery.payload
    if not isinstance(payload, dict):
        return WebhookDelivery.State.REJECTED, "the payload is not a JSON object"
    tenant = delivery.tenant
    try:
        with transaction.atomic():
            about = handler.resource(payload)
            if about is not None and delivery.triggered_at is not None:
                watermark, created = WebhookWatermark.objects.select_for_update().get_or_create(
                    tenant=tenant,
                    resource=about[0],
                    resource_id=about[1][:60],
                    defaults={"triggered_at": delivery.triggered_at},
                )
                if not created:
                    if watermark.triggered_at > delivery.triggered_at:
                        newer = watermark.triggered_at.isoformat()
                        return WebhookDelivery.State.STALE, f"{about[0]} {about[1]} has a change from {newer}"
                    watermark.triggered_at = delivery.triggered_at
                    watermark.save(update_fields=["triggered_at"])
            return WebhookDelivery.State.PROCESSED, handler.apply(tenant, payload)
    except Rejected as exc:
        return WebhookDelivery.State.REJECTED, json.dumps(exc.errors)


def delivery_failed(*, delivery_id: int, reason: str) -> None:
    """A delivery whose processing failed for good (not a payload the validation refused): visible, not retried."""
    WebhookDelivery.objects.filter(pk=delivery_id, state=WebhookDelivery.State.RECEIVED).update(
        state=WebhookDelivery.State.FAILED, detail=reason[:2000], processed_at=timezone.now()
    )


def deliveries_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Queue again the deliveries whose task was lost; drop the records past the de-duplication window.

    Returns (queued again, deleted)."""
    from catalog import tasks

    now = now or timezone.now()
    lost = list(
        WebhookDelivery.objects.filter(state=WebhookDelivery.State.RECEIVED, received_at__lt=now - REQUEUE_AFTER)
        .order_by("received_at")
        .values_list("pk", flat=True)[:10_000]
    )
    for pk in lost:
        tasks.webhook_process.delay(pk)
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=now - KEEP_DELIVERIES).delete()
    return len(lost), deleted
