"""Reads of the catalog: every query starts from the tenant."""

from __future__ import annotations

from django.db.models import F, Max, Prefetch, QuerySet, Sum

from apikeys.exceptions import NotFound
from catalog import gtin as gtin_engine
from catalog.models import (
    Category,
    CategoryAttribute,
    DuplicateCluster,
    Product,
    ProductCount,
    ProductGtin,
    Recommendation,
)
from core import sql_json
from core.bulk import json_rows, json_value, per_database
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


def page(queryset: QuerySet, *, offset: int, limit: int, key: str = "pk") -> QuerySet:
    """Rows ``offset`` to ``offset + limit`` of a totally ordered queryset, as one statement with a deferred join.

    The page's keys come from a subquery over the ordering's index alone (an index-only scan when ``key`` is
    in that index: OFFSET skips index entries, not joined rows); only those rows are then read with their
    columns and joins. Slicing the queryset itself would join every skipped row before OFFSET drops it.
    ``key`` must be unique within ``queryset``.
    """
    keys = queryset.values(key)[offset : offset + limit]
    return queryset.filter(**{f"{key}__in": keys})


# The Sortillus product body (ProductOutputSerializer) in one statement: the product's columns, its category's
# and cluster's by join, its recommendations and GTINs as JSON arrays. One round trip instead of three, and
# no queryset to compile per request (compiling cost as much as the database's work: docs/benchmarks.md).
_DETAIL_SQL = """
SELECT p.id, p.tenant_id, p.external_id, p.name, p.description, p.image, p.active, p.state, p.updated_at,
       p.created_at, p.recommended_at, p.category_id, p.cluster_id, p.gtin,
       c.full_external_id AS category_full_external_id, d.canonical_id AS cluster_canonical_id,
       {recommendations} AS recommendations_json, {gtins} AS gtins_json
FROM catalog_product p
LEFT JOIN catalog_category c ON c.id = p.category_id
LEFT JOIN catalog_duplicatecluster d ON d.id = p.cluster_id
WHERE p.tenant_id = %s AND p.{key} = %s
"""


@per_database
def _detail_sql(key: str) -> str:
    return _DETAIL_SQL.format(
        key=key,
        recommendations=json_rows(
            f"rp.external_id, r.explanation, {json_value('r.reason_json')}",
            "FROM catalog_recommendation r JOIN catalog_product rp ON rp.id = r.recommended_id "
            "WHERE r.product_id = p.id",
            order_by="r.position, r.id",
        ),
        gtins=json_rows(
            "g.gtin, g.code, g.valid",
            "FROM catalog_productgtin g WHERE g.product_id = p.id",
            order_by="g.position, g.id",
        ),
    )


def _detail(tenant: Tenant, *, key: str, value: int) -> Product:
    """One product with ``product.recommendation_list`` and ``product.gtin_list``, NotFound otherwise.

    One statement (_DETAIL_SQL); a second only for a product with a pack GTIN (the shop's products
    carrying the item inside the pack).
    """
    rows = list(Product.objects.raw(_detail_sql(key), [tenant.pk, value]))
    if not rows:
        raise NotFound("Product not found")
    product = rows[0]
    if product.category_id is not None:
        product.category = Category(pk=product.category_id, full_external_id=product.category_full_external_id)
    if product.cluster_id is not None:
        product.cluster = DuplicateCluster(pk=product.cluster_id, canonical_id=product.cluster_canonical_id)
    product.recommendation_list = [
        Recommendation(recommended=Product(external_id=external_id), explanation=explanation, reason_json=reason)
        for external_id, explanation, reason in sql_json.rows(product.recommendations_json)
    ]
    gtins = [(gtin, code, bool(valid)) for gtin, code, valid in sql_json.rows(product.gtins_json)]
    product.gtin_list = _gtin_details(product, gtins)
    return product


def product_as_written(*, tenant: Tenant, before: Product, written: Product, related_changed: bool) -> Product:
    """The product as its detail (``product_get``) shows it after a write of its own row, from what was read
    before the write (``before``, a ``product_get``) and the row the write returned: the related rows a
    row write leaves alone (recommendations, GTINs, category, duplicate cluster) are taken from ``before``.
    Read again only when the write changed those too (``related_changed``) or the row moved under them
    between the two reads (another writer changed its category or cluster)."""
    if related_changed or written.cluster_id != before.cluster_id:
        return _detail(tenant, key="id", value=written.pk)
    if written.category_id is not None and not Product.category.is_cached(written):
        if written.category_id != before.category_id:
            return _detail(tenant, key="id", value=written.pk)
        written.category = before.category
    if written.cluster_id is not None:
        written.cluster = before.cluster
    written.recommendation_list = before.recommendation_list
    written.gtin_list = before.gtin_list
    return written


def product_as_created(*, tenant: Tenant, written: Product, related_changed: bool) -> Product:
    """The product as its detail (``product_get``) shows it after ``product_create``, from the row the create
    wrote: a new product has no category, recommendations, GTINs or duplicate cluster. Read again only when
    the create wrote GTINs too (``related_changed``): their rows, and the cluster they may have joined."""
    if related_changed:
        return _detail(tenant, key="id", value=written.pk)
    written.recommendation_list = []
    written.gtin_list = []
    return written


def product_gtin_details(*, product: Product) -> list[dict]:
    """The product's GTINs as sent, whether each is a valid GS1 code, its 14-digit form, and for a pack
    (GTIN-14, indicator 1-8) the base item's GTIN and the shop's products carrying it (linked, not merged).

    One query; a second only when the product has a pack GTIN.
    """
    rows = list(ProductGtin.objects.filter(product=product).order_by("position").values_list("gtin", "code", "valid"))
    return _gtin_details(product, rows)


def _gtin_details(product: Product, rows: list[tuple[str, str, bool]]) -> list[dict]:
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
    return _detail(tenant, key="external_id", value=external_id)


def product_get_by_pk(*, tenant: Tenant, pk: int) -> Product:
    """The tenant's product with this internal id (``sortillus_id``)."""
    if not 0 < pk <= MAX_ID:
        raise NotFound("Product not found")
    return _detail(tenant, key="id", value=pk)


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
