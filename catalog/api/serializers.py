"""Input and output serializers of the Sortillus v3 surface (kept separate)."""

from __future__ import annotations

from operator import itemgetter

from rest_framework import serializers

from apikeys.fields import StrictBooleanField, StrictCharField, StrictSerializer, StrictURLField, validate_text
from apikeys.output import OMIT, OutputSerializer, computed, optional
from catalog.api.fields import ExternalIdField, GtinField, TimestampField, sortillus_time

MAX_GTINS = 50


def _text(max_length: int = 65_535, **kwargs) -> StrictCharField:
    return StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=max_length, **kwargs)


# ---- products: input ----------------------------------------------------------------------------


class ProductCreateInputSerializer(StrictSerializer):
    id = ExternalIdField()
    name = StrictCharField(max_length=255)
    description = _text()
    image = StrictURLField(required=False, allow_blank=True, allow_null=True, max_length=2048)
    suggested_category_name = _text(255)
    brand = _text(255)
    active = StrictBooleanField(required=False)
    gtin = GtinField(required=False, allow_blank=True, allow_null=True)
    gtins = serializers.ListField(child=GtinField(allow_blank=True), required=False, max_length=MAX_GTINS)


class ProductUpdateInputSerializer(StrictSerializer):
    # The body's id is ignored: the product is the one in the URL (documented).
    ignored_fields = frozenset({"id"})

    name = StrictCharField(required=False, max_length=255)
    description = _text()
    image = StrictURLField(required=False, allow_blank=True, allow_null=True, max_length=2048)
    suggested_category_name = _text(255)
    brand = _text(255)
    active = StrictBooleanField(required=False)
    category_id = serializers.JSONField(required=False)
    canonical = StrictBooleanField(required=False)
    external_canonical_product_id = ExternalIdField(required=False)
    gtin = GtinField(required=False, allow_blank=True, allow_null=True)
    gtins = serializers.ListField(child=GtinField(allow_blank=True), required=False, max_length=MAX_GTINS)

    def validate_category_id(self, value):
        if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
            raise serializers.ValidationError('Must be a category\'s full external id (e.g. "L4_2345") or external id.')
        value = str(value).strip()
        if len(value) > 40:
            raise serializers.ValidationError("Ensure this field has no more than 40 characters.")
        return validate_text(value)


def product_write_kwargs(data: dict) -> dict:
    """Validated product input as service keyword arguments (null text means empty)."""
    out = {}
    for key in ("name", "description", "image", "suggested_category_name", "brand"):
        if key in data:
            out[key] = data[key] or ""
    if "active" in data:
        out["active"] = data["active"]
    return out


def gtin_kwargs(data: dict) -> dict:
    """``gtin``/``gtins`` as the service wants them: None when not given, empty entries dropped."""
    gtin = data.get("gtin")
    if "gtin" in data and gtin is None:
        gtin = ""
    gtins = data.get("gtins")
    if gtins is not None:
        gtins = [g for g in gtins if g != ""]  # blank entries are skipped, as documented
    return {"gtin": gtin, "gtins": gtins}


# ---- products: output ---------------------------------------------------------------------------


class RecommendationOutputSerializer(OutputSerializer):
    product_id = serializers.IntegerField(source="recommended.external_id")
    explanation = serializers.CharField()
    # "object (optional)" in the vendor's doc: the key is left out when the recommendation has no reason
    reason_json = optional(serializers.JSONField(required=False), lambda r: r.reason_json or OMIT)


class GtinDetailOutputSerializer(OutputSerializer):
    # renders the dicts of catalog.selectors._gtin_details
    code = computed(serializers.CharField(help_text="as sent"), itemgetter("code"))
    valid = computed(
        serializers.BooleanField(help_text="a valid GS1 GTIN (only these find duplicates)"), itemgetter("valid")
    )
    normalised = computed(
        serializers.CharField(allow_null=True, help_text="14 digits, when valid"), itemgetter("normalised")
    )
    pack_of = computed(
        serializers.CharField(
            allow_null=True, help_text="for a GTIN-14 pack (indicator 1-8): the GTIN of the item it contains"
        ),
        itemgetter("pack_of"),
    )
    # only for a pack
    pack_of_product_ids = optional(
        serializers.ListField(
            child=serializers.IntegerField(), required=False, help_text="the shop's products carrying that item"
        ),
        lambda d: d.get("pack_of_product_ids", OMIT),
    )


def _canonical(product):
    cluster = product.cluster
    if cluster is None or cluster.canonical_id is None or cluster.canonical_id == product.pk:
        return None
    return cluster.canonical


def _canonical_id(product) -> int | None:
    cluster = product.cluster
    if cluster is None or cluster.canonical_id == product.pk:
        return None
    return cluster.canonical_id


def _category_external_id(product) -> str | None:
    return product.category.full_external_id if product.category_id else None


def _primary_gtin(product) -> dict | None:
    return next((d for d in product.gtin_list if (d["normalised"] or d["code"]) == product.gtin), None)


def _gtin(product) -> str | None:
    primary = _primary_gtin(product)
    return primary["code"] if primary else None


def _gtin_valid(product) -> bool | None:
    primary = _primary_gtin(product)
    return primary["valid"] if primary else None


class ProductOutputSerializer(OutputSerializer):
    # the detail (GET, POST and PATCH answers), as catalog.selectors.product_get loads it: rendered from this
    # declaration compiled once (apikeys.output)
    sortillus_id = serializers.IntegerField(source="pk")
    external_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    image = serializers.CharField()
    canonical_id = computed(serializers.IntegerField(read_only=True, allow_null=True), _canonical_id)
    category_external_id = computed(serializers.CharField(read_only=True, allow_null=True), _category_external_id)
    sortillus_category_id = serializers.IntegerField(source="category_id", allow_null=True)
    active = serializers.BooleanField()
    state = serializers.CharField()
    updated_at = computed(TimestampField(), lambda p: sortillus_time(p.updated_at))
    created_at = computed(TimestampField(), lambda p: sortillus_time(p.created_at))
    recommendations = RecommendationOutputSerializer(many=True, source="recommendation_list")
    recommended_at = computed(TimestampField(), lambda p: sortillus_time(p.recommended_at))
    # Additive to the vendor's body: the GTINs as sent and whether each is a valid GS1 code.
    gtin = computed(serializers.CharField(read_only=True, allow_null=True), _gtin)
    gtin_valid = computed(serializers.BooleanField(read_only=True, allow_null=True), _gtin_valid)
    gtin_details = GtinDetailOutputSerializer(many=True, source="gtin_list")


def _external_canonical_id(product) -> int | None:
    canonical = _canonical(product)
    return canonical.external_id if canonical else None


class ProductListItemOutputSerializer(OutputSerializer):
    # a page renders up to 1,000 rows: rendered from this declaration compiled once (apikeys.output), not by
    # DRF's generic field walk, which was a third of a 50-row page's time (docs/benchmarks.md)
    id = serializers.IntegerField(source="pk")
    external_id = serializers.IntegerField()
    state = serializers.CharField()
    updated_at = computed(TimestampField(), lambda p: sortillus_time(p.updated_at))
    created_at = computed(TimestampField(), lambda p: sortillus_time(p.created_at))
    category_external_id = computed(serializers.CharField(read_only=True, allow_null=True), _category_external_id)
    external_canonical_id = computed(serializers.IntegerField(read_only=True, allow_null=True), _external_canonical_id)


class ListMetaSerializer(serializers.Serializer):
    current_page = serializers.IntegerField()
    total_pages = serializers.IntegerField(required=False)
    total_count = serializers.IntegerField(required=False)


class ProductListOutputSerializer(serializers.Serializer):
    products = ProductListItemOutputSerializer(many=True)
    meta = ListMetaSerializer()


class RecommendOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    product_id = serializers.IntegerField()
    external_id = serializers.IntegerField()
    state = serializers.CharField()


# ---- categories -------------------------------------------------------------------------------


class CategoryUpsertInputSerializer(StrictSerializer):
    external_id = ExternalIdField()
    name = StrictCharField(max_length=255)
    en_name = StrictCharField(max_length=255)
    en_description = StrictCharField(max_length=65_535)
    description = _text()
    external_parent_id = ExternalIdField(required=False, allow_null=True)


class AttributeOptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    external_id = serializers.IntegerField()
    measurement = serializers.CharField(allow_null=True)


class CategoryAttributeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    external_id = serializers.IntegerField()
    measurement = serializers.CharField(allow_null=True)
    description = serializers.CharField()
    options = AttributeOptionOutputSerializer(many=True)


class CategoryListItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.IntegerField()
    full_external_id = serializers.CharField()
    level = serializers.IntegerField()
    name = serializers.CharField()
    en_name = serializers.CharField()
    en_description = serializers.CharField()
    updated_at = TimestampField()
    created_at = TimestampField()
    last_attribute_created_at = TimestampField()
    attributes = CategoryAttributeOutputSerializer(many=True)


class CategoryListOutputSerializer(serializers.Serializer):
    categories = CategoryListItemOutputSerializer(many=True)
    meta = ListMetaSerializer()


class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    en_name = serializers.CharField()
    en_description = serializers.CharField()
    parent_id = serializers.SerializerMethodField()
    full_external_id = serializers.CharField()
    level = serializers.IntegerField()
    created_at = TimestampField()
    updated_at = TimestampField()

    def get_parent_id(self, category) -> int | None:
        # The parent's external id, as in the documented example ("external_parent_id": 20 -> "parent_id": 20).
        return category.parent.external_id if category.parent_id else None


# The documented request bodies: the fields inside a wrapper object (the views unwrap it).
class ProductCreateBodySerializer(StrictSerializer):
    """`POST /api/v3/products`: the product inside `product`."""

    product = ProductCreateInputSerializer()


class ProductUpdateBodySerializer(StrictSerializer):
    """`PATCH /api/v3/products/:id`: the fields to change inside `product` (or at the root)."""

    product = ProductUpdateInputSerializer()


class CategoryUpsertBodySerializer(StrictSerializer):
    """`POST /api/v3/shop/categories`: the category inside `category`."""

    category = CategoryUpsertInputSerializer()
