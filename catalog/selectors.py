"""Reads of the catalog: every query starts from the tenant."""

from __future__ import annotations

from django.db.models import F, Max, Prefetch, QuerySet, Sum

from apikeys.exceptions import NotFound
from catalog import gtin as gtin_engine
from catalog.models import Category, CategoryAttribute, Product, ProductCount, ProductGtin, Recommendation
from tenants.models import Tenant

MAX_ID = 2**63 - 1


def product_list(*, tenant: Tenant) -> QuerySet[Product]:
    """Products newest-updated first, with what a list row shows in the same query."""
    return (
        Product.objects.for_tenant(tenant)
        .select_related("category", "cluster__canonical")
        .only(
            "pk",
            "external_id",
            "state",
            "updated_at",
            "created_at",
            "category__full_external_id",
            "cluster__canonical_id",
            "cluster__canonical__external_id",
        )
        .order_by("-updated_at", "-id")
    )


def product_total(*, tenant: Tenant) -> int:
    """The tenant's number of products: the counter kept by triggers (catalog/counters.py), exact and read
    from a few rows, instead of a COUNT(*) that reads every product of the shop."""
    return ProductCount.objects.for_tenant(tenant).aggregate(total=Sum("n"))["total"] or 0


def page(queryset: QuerySet, *, offset: int, limit: int) -> QuerySet:
    """Rows ``offset`` to ``offset + limit`` of a totally ordered queryset, as one statement with a deferred join.

    The page's ids come from a subquery over the ordering's index alone (an index-only scan: OFFSET skips
    index entries, not joined rows); only those rows are then read with their columns and joins. Slicing
    the queryset itself would join every skipped row before OFFSET drops it: linear in the page number.
    """
    ids = queryset.values("pk")[offset : offset + limit]
    return queryset.filter(pk__in=ids)


# What the Sortillus product body shows (ProductOutputSerializer); loading nothing else keeps the query cheap.
_DETAIL_FIELDS = (
    "id",
    "tenant_id",
    "external_id",
    "name",
    "description",
    "image",
    "active",
    "state",
    "updated_at",
    "created_at",
    "recommended_at",
    "category_id",
    "category__full_external_id",
    "cluster_id",
    "cluster__canonical_id",
    "gtin",
)


def _detail(tenant: Tenant, **lookup: int) -> Product:
    """One product and its recommendations (``product.recommendation_list``), NotFound otherwise.

    One query by a unique key, without ORDER BY (Django's ordering compiler is as costly as the
    database round trip here: docs/benchmarks.md), plus one for the recommendations.
    """
    try:
        product = (
            Product.objects.for_tenant(tenant).select_related("category", "cluster").only(*_DETAIL_FIELDS).get(**lookup)
        )
    except Product.DoesNotExist:
        raise NotFound("Product not found") from None
    product.recommendation_list = list(
        Recommendation.objects.filter(product=product)
        .select_related("recommended")
        .only("product_id", "recommended__external_id", "explanation", "reason_json", "position")
        .order_by("position")
    )
    product.gtin_list = product_gtin_details(product=product)
    return product


def product_gtin_details(*, product: Product) -> list[dict]:
    """The product's GTINs as sent, whether each is a valid GS1 code, its 14-digit form, and for a pack
    (GTIN-14, indicator 1-8) the base item's GTIN and the shop's products carrying it (linked, not merged).

    One query; a second only when the product has a pack GTIN.
    """
    rows = list(ProductGtin.objects.filter(product=product).order_by("position").values_list("gtin", "code", "valid"))
    details = []
    for key, code, valid in rows:
        parsed = gtin_engine.normalise_or_none(key) if valid else None
        base = parsed.base_item if parsed is not None else None
        details.append({"code": code or key, "valid": valid, "normalised": key if valid else None, "pack_of": base})
    bases = {d["pack_of"] for d in details if d["pack_of"]}
    holders: dict[str, list[int]] = {}
    if bases:
        for code, external_id in (
            ProductGtin.objects.filter(tenant_id=product.tenant_id, gtin__in=bases, valid=True)
            .exclude(product_id=product.pk)
            .order_by("product__external_id")
            .values_list("gtin", "product__external_id")
        ):
            holders.setdefault(code, []).append(external_id)
    for d in details:
        if d["pack_of"]:
            d["pack_of_product_ids"] = holders.get(d["pack_of"], [])
    return details


def product_get(*, tenant: Tenant, external_id: int) -> Product:
    """The tenant's product with this external id (404 "Product not found" otherwise)."""
    if not 0 < external_id <= MAX_ID:
        raise NotFound("Product not found")
    return _detail(tenant, external_id=external_id)


def product_get_by_pk(*, tenant: Tenant, pk: int) -> Product:
    """The tenant's product with this internal id (``sortillus_id``)."""
    if not 0 < pk <= MAX_ID:
        raise NotFound("Product not found")
    return _detail(tenant, pk=pk)


def category_list(*, tenant: Tenant) -> QuerySet[Category]:
    """Categories by their newest attribute (those without attributes last, by updated_at), then id."""
    attributes = CategoryAttribute.objects.prefetch_related("options").order_by("-created_at", "-id")
    return (
        Category.objects.for_tenant(tenant)
        .annotate(last_attribute_created_at=Max("attributes__created_at"))
        .prefetch_related(Prefetch("attributes", queryset=attributes))
        .order_by(F("last_attribute_created_at").desc(nulls_last=True), "-updated_at", "-id")
    )


def category_get(*, tenant: Tenant, pk: int) -> Category:
    return Category.objects.for_tenant(tenant).select_related("parent").get(pk=pk)
