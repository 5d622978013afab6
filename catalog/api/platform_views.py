"""Platform sync endpoints of the catalog: Shopify products and orders in (DESIGN.md "Platform surface")."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apikeys.api.results import BulkResultSerializer, bulk_result
from apikeys.api.views import PlatformAPIView
from apikeys.permissions import Permission
from catalog import category_suggestions, sync
from catalog.api import platform_serializers as ps


def _result(checked: tuple[list[tuple[int, dict]], list[dict]], apply: Callable[[list], dict[str, list]]) -> dict:
    """The per-item answer: the items refused by validation or by the sync, the others created or updated."""
    valid, rejected = checked
    applied = apply(valid)
    refused = rejected + applied["rejected"]
    out = {r["index"] for r in refused}
    created = set(applied["created"])
    items = [(r["index"], r["id"], "rejected", r["errors"]) for r in refused]
    items += [
        (i, item["id"], "created" if item["id"] in created else "updated", None) for i, item in valid if i not in out
    ]
    return bulk_result(items)


class ProductSyncView(PlatformAPIView):
    method_permissions = {"PUT": Permission.WRITE}

    @extend_schema(
        operation_id="platform_products_sync",
        request=ps.ProductSyncInputSerializer,
        responses={200: BulkResultSerializer},
        description="Upsert up to 1000 Shopify products (options, variants); answers per item.",
    )
    def put(self, request):
        items = ps.envelope_items(ps.ProductSyncInputSerializer, request.data, "products")
        checked = ps.validate_each(ps.ShopifyProductSerializer, items)
        return Response(_result(checked, lambda items: sync.products_sync(tenant=self.tenant, items=items)))


class OrderSyncView(PlatformAPIView):
    method_permissions = {"POST": Permission.WRITE}

    @extend_schema(
        operation_id="platform_orders_sync",
        request=ps.OrderSyncInputSerializer,
        responses={200: BulkResultSerializer},
        description="Upsert up to 1000 Shopify orders (de-duplicated by id) and roll them up into daily sales.",
    )
    def post(self, request):
        items = ps.envelope_items(ps.OrderSyncInputSerializer, request.data, "orders")
        checked = ps.validate_each(ps.ShopifyOrderSerializer, items)
        return Response(_result(checked, lambda items: sync.orders_sync(tenant=self.tenant, items=items)))


class ProductCategorySuggestionsView(PlatformAPIView):
    @extend_schema(
        operation_id="product_category_suggestions",
        responses={200: ps.ProductCategorySuggestionsOutputSerializer},
        description="A product's category (and who set it) and its best leaf categories, best first, up to five.",
    )
    def get(self, request, id: int):
        return Response(category_suggestions.product_suggestions(tenant=self.tenant, external_id=id))


class CategorySuggestionsRefreshView(PlatformAPIView):
    method_permissions = {"POST": Permission.WRITE}

    @extend_schema(
        operation_id="category_suggestions_refresh",
        request=None,
        responses={202: ps.CategorySuggestionsRefreshOutputSerializer},
        description="Queue fresh category suggestions for every product without a merchant-set category.",
    )
    def post(self, request):
        queued = category_suggestions.category_suggestions_refresh(tenant=self.tenant)
        return Response({"queued": queued}, status=202)
