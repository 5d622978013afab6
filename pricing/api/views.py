"""The ShopiSync external v1 surface (specs/shopisync-external-api-v1.txt) and the platform competitor feed.

Views are four steps: validate, take the tenant from the key, call one selector
or service, serialize. Errors are raised and rendered by apikeys.errors.
"""

from __future__ import annotations

import math

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apikeys.api.results import BulkResultSerializer, bulk_result, field_errors
from apikeys.api.views import PlatformAPIView
from apikeys.exceptions import ValidationFailed
from apikeys.permissions import Permission
from apikeys.surfaces import PRICING
from apikeys.views import SurfaceAPIView
from catalog import selectors as catalog_selectors
from pricing import selectors, services
from pricing.api import serializers as s
from pricing.api.parsers import DecimalJSONParser
from pricing.filters import ProductFilter

ERRORS = {
    401: OpenApiResponse(s.ErrorSerializer, description="INVALID_API_KEY"),
    403: OpenApiResponse(s.ErrorSerializer, description="INSUFFICIENT_PERMISSIONS or IP_NOT_ALLOWED"),
    429: OpenApiResponse(s.ErrorSerializer, description="RATE_LIMIT_EXCEEDED"),
}
BAD_REQUEST = {400: OpenApiResponse(s.ErrorSerializer, description="VALIDATION_ERROR")}
NOT_FOUND = {404: OpenApiResponse(s.ErrorSerializer, description="NOT_FOUND")}
ACTIVE = OpenApiParameter("active", str, enum=["true", "false"], description="filter by monitoring status")


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def paginated(
    queryset: QuerySet, *, page: int, limit: int, total: int | None = None, key: str = "pk"
) -> tuple[list, dict]:
    """One page of a totally ordered queryset and the ShopiSync pagination block (``total``: a count known
    without COUNT(*), e.g. the tenant's product counter; ``key``: a unique column in the ordering's index)."""
    if total is None:
        total = queryset.count()
    # Deferred join in one statement: the page's ids from the narrow ordered index scan (OFFSET walks
    # only the index), then just those rows with their joins (and prefetches), in the same order.
    items = list(catalog_selectors.page(queryset, offset=(page - 1) * limit, limit=limit, key=key))
    return items, {"page": page, "limit": limit, "total": total, "totalPages": math.ceil(total / limit)}


class ShopiSyncView(SurfaceAPIView):
    surface = PRICING
    parser_classes = [DecimalJSONParser]
    method_permissions = {"GET": Permission.READ, "PUT": Permission.WRITE, "POST": Permission.WRITE}


class ProductListView(ShopiSyncView):
    @extend_schema(
        operation_id="pricing_products_list",
        parameters=[s.PageQuerySerializer, ACTIVE],
        responses={
            200: s.envelope("ProductListResponse", s.ProductSerializer, many=True, paginated=True),
            **BAD_REQUEST,
            **ERRORS,
        },
    )
    def get(self, request):
        params = validated(s.PageQuerySerializer, request.query_params)
        filterset = ProductFilter(data=request.query_params, queryset=selectors.product_list(tenant=self.tenant))
        if not filterset.is_valid():
            raise ValidationFailed("Invalid query parameters", errors=dict(filterset.errors))
        # unfiltered, the total is the tenant's product count kept by triggers (catalog/counters.py)
        unfiltered = filterset.form.cleaned_data.get("active") is None
        total = catalog_selectors.product_total(tenant=self.tenant) if unfiltered else None
        # external_id: the (tenant, external_id) index alone gives the page's keys (pk is not in it)
        items, pagination = paginated(
            filterset.qs, page=params["page"], limit=params["limit"], total=total, key="external_id"
        )
        data = s.ProductSerializer(items, many=True).data
        return Response({"success": True, "data": data, "pagination": pagination})


class ProductDetailView(ShopiSyncView):
    def _detail(self, product_id: int) -> Response:
        product = selectors.product_detail(tenant=self.tenant, external_id=product_id)  # one statement
        return Response({"success": True, "data": s.ProductDetailSerializer(product).data})

    @extend_schema(
        operation_id="pricing_products_retrieve",
        responses={200: s.envelope("ProductResponse", s.ProductDetailSerializer), **NOT_FOUND, **ERRORS},
    )
    def get(self, request, product_id: int):
        return self._detail(product_id)

    @extend_schema(
        operation_id="pricing_products_update",
        request=s.ProductUpdateSerializer,
        responses={
            200: s.envelope("ProductUpdateResponse", s.ProductDetailSerializer),
            **BAD_REQUEST,
            **NOT_FOUND,
            **ERRORS,
        },
    )
    def put(self, request, product_id: int):
        # read once (404 before any validation error, as before): the service updates it to what it wrote
        product = selectors.product_detail(tenant=self.tenant, external_id=product_id)
        changes = validated(s.ProductUpdateSerializer, request.data)
        services.product_pricing_update(tenant=self.tenant, product=product, changes=changes)
        return Response({"success": True, "data": s.ProductDetailSerializer(product).data})


class CompetitorListView(ShopiSyncView):
    @extend_schema(
        operation_id="competitors_list",
        parameters=[s.PageQuerySerializer],
        responses={
            200: s.envelope("CompetitorListResponse", s.CompetitorListSerializer, many=True, paginated=True),
            **BAD_REQUEST,
            **ERRORS,
        },
    )
    def get(self, request):
        params = validated(s.PageQuerySerializer, request.query_params)
        items, pagination = paginated(selectors.competitor_list(tenant=self.tenant), **params)
        data = s.CompetitorListSerializer(items, many=True).data
        return Response({"success": True, "data": data, "pagination": pagination})


class PriceHistoryView(ShopiSyncView):
    @extend_schema(
        operation_id="price_history_list",
        parameters=[s.HistoryQuerySerializer],
        responses={
            200: s.envelope("PriceHistoryResponse", s.PriceChangeSerializer, many=True, paginated=True),
            **BAD_REQUEST,
            **NOT_FOUND,
            **ERRORS,
        },
    )
    def get(self, request, product_id: int):
        params = validated(s.HistoryQuerySerializer, request.query_params)
        product = selectors.product_get(tenant=self.tenant, external_id=product_id)
        history = selectors.price_history(tenant=self.tenant, product=product, days=params["days"])
        items, pagination = paginated(history, page=params["page"], limit=params["limit"])
        data = s.PriceChangeSerializer(items, many=True).data
        return Response({"success": True, "data": data, "pagination": pagination})


class StatsView(ShopiSyncView):
    @extend_schema(operation_id="stats", responses={200: s.envelope("StatsResponse", s.StatsSerializer), **ERRORS})
    def get(self, request):
        return Response({"success": True, "data": s.StatsSerializer(selectors.stats(tenant=self.tenant)).data})


class WebhookTestView(ShopiSyncView):
    @extend_schema(
        operation_id="webhooks_test",
        request={"application/json": {"type": "object", "additionalProperties": True}},
        responses={
            200: {
                "type": "object",
                "properties": {
                    "success": {"type": "boolean"},
                    "data": {
                        "type": "object",
                        "properties": {"received": {}, "timestamp": {"type": "string", "format": "date-time"}},
                    },
                },
            },
            **BAD_REQUEST,
            **ERRORS,
        },
    )
    def post(self, request):
        # An echo: nothing is stored. Decimals go back as JSON numbers exactly as sent.
        timestamp = timezone.now().isoformat().replace("+00:00", "Z")
        return Response({"success": True, "data": {"received": request.data, "timestamp": timestamp}})


class CompetitorPricesView(PlatformAPIView):
    parser_classes = [DecimalJSONParser]
    method_permissions = {"POST": Permission.WRITE}

    @extend_schema(
        operation_id="competitor_prices_create",
        request=s.ObservationBatchSchemaSerializer,
        responses={200: BulkResultSerializer, **BAD_REQUEST, **ERRORS},
    )
    def post(self, request):
        batch = validated(s.ObservationBatchSerializer, request.data)
        valid, results = s.observations_validate(batch["observations"])
        results.update(services.observations_ingest(tenant=self.tenant, items=valid))
        # An observation has no id of its own (id null): its result is matched by index.
        return Response(
            bulk_result(
                (index, None, "rejected", field_errors(r["errors"]))
                if r["status"] == "error"
                else (index, None, r["status"], None)
                for index, r in results.items()
            )
        )
