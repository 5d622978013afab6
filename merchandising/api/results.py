"""The ``data`` of each Dynasort action's success body, for the OpenAPI document (schema only).

The shapes mirror the ``*_out`` functions and handlers of ``merchandising/actions.py``; the fuzz and
SDK tests in tests/contracts validate live answers against them.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

S = serializers


def _n(field: S.Field) -> S.Field:
    """``field`` that may be null (kept in ``_kwargs`` too: fields are deep-copied from them per instance)."""
    field.allow_null = field._kwargs["allow_null"] = True
    return field


class RecipeRefOut(S.Serializer):
    id = S.IntegerField()
    name = S.CharField()


class SortRunOut(S.Serializer):
    kind = S.CharField()
    method = S.CharField()
    recipe_id = _n(S.IntegerField())
    sorted_at = _n(S.DateTimeField())
    product_count = S.IntegerField()
    moves = S.IntegerField()
    moved_product_ids = S.ListField(child=S.IntegerField())


class CollectionOut(S.Serializer):
    id = S.IntegerField()
    title = S.CharField()
    handle = S.CharField()
    enabled = S.BooleanField()
    metrics_id = _n(S.IntegerField())
    recipe = _n(RecipeRefOut())
    revert_sorting = _n(S.CharField())
    product_count = S.IntegerField()
    last_sorted_at = _n(S.DateTimeField())
    sort_status = S.CharField()
    sort_error = _n(S.CharField())


class CollectionProductOut(S.Serializer):
    product_id = S.IntegerField()
    title = S.CharField()
    position = S.IntegerField()
    score = _n(S.FloatField())
    score_details = _n(S.JSONField())
    boost = S.IntegerField()


class StoreWritebackOut(S.Serializer):
    state = S.ChoiceField(choices=["pending", "sending", "done", "failed", "skipped", "superseded"])
    sort_order = _n(S.CharField(help_text="the collection sort order set in the store (MANUAL, BEST_SELLING, ...)"))
    moves = S.IntegerField(help_text="moves of the fewest-moves plan")
    moves_done = S.IntegerField(help_text="moves the store confirmed")
    calls = S.IntegerField(help_text="mutations the store accepted")
    job_ids = S.ListField(child=S.CharField())
    attempts = S.IntegerField()
    error = _n(S.CharField(help_text="why it failed (or, while retrying, the last transient error)"))
    updated_at = _n(S.DateTimeField())


class CollectionDetailOut(CollectionOut):
    last_sort = _n(SortRunOut())
    last_sort_explanation = _n(S.CharField(help_text="platform extension: how the last sort ordered the products"))
    store_writeback = _n(
        StoreWritebackOut(help_text="platform extension: the latest writeback of an order to the Shopify store")
    )
    offset = S.IntegerField()
    limit = S.IntegerField()
    has_more = S.BooleanField(help_text="more products after these: call again with offset=next_offset")
    next_offset = _n(S.IntegerField(help_text="the offset of the next page, null when there is none"))
    products_note = S.CharField(help_text="which products are shown and how to get the rest")
    products = CollectionProductOut(many=True)


class CollectionDisabledOut(CollectionOut):
    reverted = _n(SortRunOut())


class ToggledOut(S.Serializer):
    id = S.IntegerField()
    enabled = S.BooleanField()
    reverted = _n(SortRunOut())


class BulkToggleOut(S.Serializer):
    updated = S.IntegerField()
    status = S.IntegerField()
    collections = ToggledOut(many=True)


class AssignedOut(S.Serializer):
    id = S.IntegerField()
    metrics_id = _n(S.IntegerField())
    revert_sorting = _n(S.CharField())


class BulkAssignOut(S.Serializer):
    updated = S.IntegerField()
    metrics_id = S.IntegerField()
    collections = AssignedOut(many=True)


class PreviewProductOut(S.Serializer):
    product_id = S.IntegerField()
    title = S.CharField()
    position = S.IntegerField(help_text="proposed position, 0 first")
    current_position = _n(S.IntegerField())
    score = S.FloatField()
    score_details = S.DictField(child=S.FloatField(), help_text="points each recipe metric gave")
    boost = S.IntegerField()
    sold_out = S.BooleanField()


class PreviewRecipeOut(RecipeRefOut):
    days = S.CharField(required=False)
    weights = S.DictField(child=S.FloatField(), required=False)


class SortQueuedOut(S.Serializer):
    """``sort_collection``: queued (the vendor's answer), or with the platform extensions a preview
    (``dry_run``) or an applied plan (``plan_id``); the extension fields appear only then."""

    collection_id = S.IntegerField()
    status = S.ChoiceField(choices=["queued", "preview", "applied"])
    recipe = PreviewRecipeOut(help_text="id and name; a preview adds days and weights")
    queued_at = _n(S.DateTimeField(required=False, help_text="queued sorts; null when a plan was applied"))
    enabled = S.BooleanField(required=False, help_text="preview only")
    plan_id = S.CharField(required=False, help_text="preview and applied only")
    sorted_at = S.DateTimeField(required=False, help_text="applied only")
    product_count = S.IntegerField(required=False, help_text="preview and applied only")
    moves = S.IntegerField(required=False, help_text="products that move (fewest moves); preview and applied only")
    moved_product_ids = S.ListField(child=S.IntegerField(), required=False, help_text="first 250")
    products = PreviewProductOut(many=True, required=False, help_text="preview only: the first 250 positions")


class RevertedOut(S.Serializer):
    collection_id = S.IntegerField()
    reverted = _n(SortRunOut())


class RecipeOut(S.Serializer):
    id = S.IntegerField()
    name = S.CharField()
    days = S.CharField()
    weights = S.DictField(child=S.FloatField())
    collection_count = S.IntegerField()
    collection_ids = S.ListField(child=S.IntegerField())


class OptionRuleOut(S.Serializer):
    sort_type = S.CharField()
    sold_out = S.CharField()
    direction = S.CharField()
    days = S.CharField()
    csv_pattern = _n(S.CharField())
    common_size = _n(S.CharField())
    last_sorted_at = _n(S.DateTimeField())
    last_sort_method = _n(S.CharField())


class ProductOptionOut(S.Serializer):
    option_id = _n(S.IntegerField())
    name = S.CharField()
    position = S.IntegerField()
    values = S.ListField(child=S.CharField())
    sorting = _n(OptionRuleOut())


class ProductOut(S.Serializer):
    product_id = S.IntegerField()
    title = S.CharField()
    status = S.CharField()
    boost = S.IntegerField()
    enabled = S.BooleanField()
    sort_status = S.CharField()
    options_sorted_at = _n(S.DateTimeField())
    options = ProductOptionOut(many=True)


class VariantOut(S.Serializer):
    variant_id = _n(S.IntegerField())
    title = S.CharField()
    option1 = _n(S.CharField())
    option2 = _n(S.CharField())
    option3 = _n(S.CharField())
    price = S.CharField()
    compare_at_price = _n(S.CharField())
    cost = _n(S.CharField())
    inventory_quantity = S.IntegerField()
    sellable = S.BooleanField()


class ProductDetailOut(ProductOut):
    sort_error = _n(S.CharField())
    variants = VariantOut(many=True)
    store_writeback = _n(
        StoreWritebackOut(help_text="platform extension: the latest writeback of the option order to the store")
    )


class BoostOut(S.Serializer):
    product_id = S.IntegerField()
    boost = S.IntegerField()


class ProductDisabledOut(S.Serializer):
    product_id = S.IntegerField()
    enabled = S.BooleanField()


class QueuedOptionOut(S.Serializer):
    option_id = _n(S.IntegerField())
    name = S.CharField()
    sort_type = S.CharField()


class ProductSortQueuedOut(S.Serializer):
    product_id = S.IntegerField()
    status = S.CharField()
    options = QueuedOptionOut(many=True)


# action -> (serializer of its data, whether data is a list of them)
RESULTS: dict[str, tuple[type[S.Serializer], bool]] = {
    "list_collections": (CollectionOut, True),
    "get_collection": (CollectionDetailOut, False),
    "enable_collection": (CollectionOut, False),
    "disable_collection": (CollectionDisabledOut, False),
    "update_collection": (CollectionOut, False),
    "bulk_toggle_collections": (BulkToggleOut, False),
    "bulk_assign_recipe": (BulkAssignOut, False),
    "sort_collection": (SortQueuedOut, False),
    "revert_collection": (RevertedOut, False),
    "list_recipes": (RecipeOut, True),
    "list_products": (ProductOut, True),
    "get_product": (ProductDetailOut, False),
    "set_product_boost": (BoostOut, False),
    "enable_product": (ProductOut, False),
    "disable_product": (ProductDisabledOut, False),
    "sort_product": (ProductSortQueuedOut, False),
}


class DynasortResult(S.Serializer):
    """``{"success": true, "data": ...}``: ``data`` is the named action's result (see RESULTS)."""


class DynasortResultExtension(OpenApiSerializerExtension):
    """One branch per action, titled with the action's name. anyOf, not oneOf: the body carries no
    discriminator, and two actions may answer alike (an empty list, the same collection object)."""

    target_class = DynasortResult

    def get_name(self, auto_schema, direction):
        return "DynasortResult"

    def map_serializer(self, auto_schema, direction):
        branches = []
        for action, (serializer, many) in RESULTS.items():
            ref = auto_schema.resolve_serializer(serializer, direction).ref
            if many:
                branches.append({"title": action, "type": "array", "items": ref})
            else:
                branches.append({"title": action, "allOf": [ref]})
        return {
            "type": "object",
            "properties": {"success": {"type": "boolean", "enum": [True]}, "data": {"anyOf": branches}},
            "required": ["success", "data"],
        }
