"""The Sortillus v3 surface: products, recommendations and shop categories (thin views)."""

from __future__ import annotations

import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apikeys.exceptions import BadRequest, ValidationFailed
from apikeys.surfaces import CATALOG
from apikeys.views import SurfaceAPIView
from catalog import selectors, services
from catalog.api import serializers as s
from catalog.filters import (
    CATEGORY_LIST_PARAMS,
    MAX_PER_PAGE,
    PRODUCT_LIST_PARAMS,
    CategoryFilter,
    ProductFilter,
    product_filter_data,
)

CATEGORY_PAGE_SIZE = 100
MAX_CATEGORY_PAGE_SIZE = 1000


class SortillusView(SurfaceAPIView):
    surface = CATALOG


def _wrapped(data, key: str, *, root_allowed: bool = False) -> dict:
    """The object under ``key`` (400 when missing); with ``root_allowed`` the root object itself."""
    if not isinstance(data, dict):
        raise BadRequest(f"param is missing or the value is empty: {key}")
    if key in data:
        if not isinstance(data[key], dict) or not data[key]:
            raise BadRequest(f"param is missing or the value is empty: {key}")
        if len(data) > 1 and not root_allowed:
            raise ValidationFailed("Validation failed", {k: ["Unknown field."] for k in data if k != key})
        return data[key]
    if root_allowed and data:
        return data
    raise BadRequest(f"param is missing or the value is empty: {key}")


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _unknown_params(query, allowed: frozenset[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise ValidationFailed("Validation failed", {k[:100]: ["Unknown query parameter."] for k in unknown})


def _paging(query, default: int, maximum: int) -> tuple[int, int]:
    class Paging(serializers.Serializer):
        page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=1_000_000)
        per_page = serializers.IntegerField(required=False, default=default, min_value=1, max_value=maximum)

    data = _validated(Paging, {k: query.get(k) for k in ("page", "per_page") if k in query})
    return data["page"], data["per_page"]


def _filtered(filterset):
    if not filterset.is_valid():
        raise ValidationFailed("Validation failed", {k: list(v) for k, v in filterset.errors.items()})
    return filterset.qs


def _int_param(name: str, maximum: int, description: str = "") -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "integer", "minimum": 1, "maximum": maximum}, description=description)


PRODUCT_LIST_PARAMETERS = [
    _int_param("page", 1_000_000, "Page number (default 1)"),
    _int_param("per_page", MAX_PER_PAGE, f"Items per page (default and maximum {MAX_PER_PAGE})"),
    OpenApiParameter("aasm_states", str, description="Comma list of states (or aasm_states[]=... repeated)"),
    OpenApiParameter("updated_before", OpenApiTypes.DATETIME),
    OpenApiParameter("updated_after", OpenApiTypes.DATETIME),
]


class ProductListCreateView(SortillusView):
    @extend_schema(
        operation_id="products_list",
        parameters=PRODUCT_LIST_PARAMETERS,
        responses={200: s.ProductListOutputSerializer},
    )
    def get(self, request):
        query = request.query_params
        _unknown_params(query, PRODUCT_LIST_PARAMS)
        page, per_page = _paging(query, MAX_PER_PAGE, MAX_PER_PAGE)
        filterset = ProductFilter(data=product_filter_data(query), queryset=selectors.product_list(tenant=self.tenant))
        products = _filtered(filterset)
        meta: dict = {"current_page": page}
        if not filterset.narrows:
            # The doc omits totals when filtering; unfiltered, the total is the tenant's product count, kept by
            # triggers with every write (no COUNT(*) over the shop)
            total = selectors.product_total(tenant=self.tenant)
            meta.update(total_pages=math.ceil(total / per_page), total_count=total)
        rows = selectors.page(products, offset=(page - 1) * per_page, limit=per_page)
        return Response({"products": s.ProductListItemOutputSerializer(rows, many=True).data, "meta": meta})

    @extend_schema(
        operation_id="products_create",
        request=s.ProductCreateBodySerializer,
        responses={201: s.ProductOutputSerializer},
    )
    def post(self, request):
        data = _validated(s.ProductCreateInputSerializer, _wrapped(request.data, "product"))
        # the answer is what the service wrote (the category is suggested after the commit, in the background)
        written, related_changed = services.product_create(
            tenant=self.tenant, external_id=data["id"], **s.product_write_kwargs(data), **s.gtin_kwargs(data)
        )
        product = selectors.product_as_created(tenant=self.tenant, written=written, related_changed=related_changed)
        return Response(s.ProductOutputSerializer(product).data, status=201)


class ProductDetailView(SortillusView):
    @extend_schema(operation_id="products_retrieve", responses={200: s.ProductOutputSerializer})
    def get(self, request, id: int):
        product = selectors.product_get(tenant=self.tenant, external_id=id)
        return Response(s.ProductOutputSerializer(product).data)

    @extend_schema(
        operation_id="products_update",
        request=s.ProductUpdateBodySerializer,
        description="Fields may also be sent at the root of the body instead of inside `product`.",
        responses={200: s.ProductOutputSerializer},
    )
    def patch(self, request, id: int):
        # read once (404 before any validation error, as before); the answer is what the service wrote
        before = selectors.product_get(tenant=self.tenant, external_id=id)
        data = _validated(s.ProductUpdateInputSerializer, _wrapped(request.data, "product", root_allowed=True))
        written, related_changed = services.product_update(
            tenant=self.tenant,
            product=before,
            fields=s.product_write_kwargs(data),
            category_ref=data.get("category_id"),
            make_canonical=data.get("canonical", False),
            canonical_ref=data.get("external_canonical_product_id"),
            **s.gtin_kwargs(data),
        )
        product = selectors.product_as_written(
            tenant=self.tenant, before=before, written=written, related_changed=related_changed
        )
        return Response(s.ProductOutputSerializer(product).data)


class ProductRecommendView(SortillusView):
    @extend_schema(
        operation_id="products_recommend",
        request=None,
        responses={200: s.RecommendOutputSerializer},
    )
    def post(self, request, id: int):
        product = selectors.product_get_by_pk(tenant=self.tenant, pk=id)
        product = services.product_recommend_start(tenant=self.tenant, product=product)
        return Response(
            {
                "message": "Recommendation process triggered successfully",
                "product_id": product.pk,
                "external_id": product.external_id,
                "state": product.state,
            }
        )


class CategoryListUpsertView(SortillusView):
    @extend_schema(
        operation_id="shop_categories_list",
        parameters=[
            _int_param("page", 1_000_000),
            _int_param("per_page", MAX_CATEGORY_PAGE_SIZE, f"default {CATEGORY_PAGE_SIZE}"),
            _int_param("level", 1_000),
            OpenApiParameter("parent_external_id", int),
            OpenApiParameter("search", str),
            OpenApiParameter("with_attributes", str, description="true, 1 or yes"),
        ],
        responses={200: s.CategoryListOutputSerializer},
    )
    def get(self, request):
        query = request.query_params
        _unknown_params(query, CATEGORY_LIST_PARAMS)
        page, per_page = _paging(query, CATEGORY_PAGE_SIZE, MAX_CATEGORY_PAGE_SIZE)
        data = {k: query.get(k) for k in CATEGORY_LIST_PARAMS - {"page", "per_page"} if k in query}
        categories = _filtered(CategoryFilter(data=data, queryset=selectors.category_list(tenant=self.tenant)))
        total = categories.count()
        rows = categories[(page - 1) * per_page : page * per_page]
        return Response(
            {
                "categories": s.CategoryListItemOutputSerializer(rows, many=True).data,
                "meta": {"current_page": page, "total_pages": math.ceil(total / per_page), "total_count": total},
            }
        )

    @extend_schema(
        operation_id="shop_categories_upsert",
        request=s.CategoryUpsertBodySerializer,
        responses={200: s.CategoryOutputSerializer, 201: s.CategoryOutputSerializer},
    )
    def post(self, request):
        body = _wrapped(request.data, "category")
        data = _validated(s.CategoryUpsertInputSerializer, body)
        category, created = services.category_upsert(
            tenant=self.tenant,
            external_id=data["external_id"],
            name=data["name"],
            en_name=data["en_name"],
            en_description=data["en_description"],
            description=(data.get("description") or "") if "description" in data else None,
            external_parent_id=data.get("external_parent_id"),
            parent_given="external_parent_id" in body,
        )
        category = selectors.category_get(tenant=self.tenant, pk=category.pk)
        return Response(s.CategoryOutputSerializer(category).data, status=201 if created else 200)
