"""The Shopify webhook topics merchandising acts on (registered with catalog.webhooks at start-up)."""

from __future__ import annotations

from catalog import webhooks
from merchandising import services
from tenants.models import Tenant


def _text(payload: dict, name: str, max_length: int = 255) -> str:
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        raise webhooks.Rejected({name: [f"A string of at most {max_length} characters is required."]})
    return value


def _collection_id(payload: dict) -> int:
    value = payload.get("id")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < 2**63:
        raise webhooks.Rejected({"id": ["A collection id is required."]})
    return value


@webhooks.register("collections/create", "collections/update", resource=webhooks.by_id("collection"))
def collection_upsert(tenant: Tenant, payload: dict) -> str:
    title = _text(payload, "title")
    if not title:
        raise webhooks.Rejected({"title": ["This field is required."]})
    _, created = services.collection_details_upsert(
        tenant=tenant,
        external_id=_collection_id(payload),
        title=title,
        handle=_text(payload, "handle"),
        sort_order=_text(payload, "sort_order", 30),
    )
    return "created" if created else "updated"


@webhooks.register("collections/delete", resource=webhooks.by_id("collection"))
def collection_delete(tenant: Tenant, payload: dict) -> str:
    deleted = services.collections_delete(tenant=tenant, external_ids=[_collection_id(payload)])
    return "deleted" if deleted else "unknown collection"


def resort_on_sellable_change(sender, tenant: Tenant, product_ids: list[int], **kwargs) -> None:
    """Products sold out or back in stock: their enabled collections sink or lift them soon."""
    services.collections_resort_for_products(tenant=tenant, product_ids=product_ids)
