"""The ``data`` of each Dynasort action's success body: the OpenAPI document and the answers alike.

The object shapes (collections, sort runs, recipes, products, options, rules, variants, writebacks) are
rendered from these declarations (apikeys.output), so what the schema says is what the handlers of
``merchandising/actions.py`` answer; the fuzz and SDK tests in tests/contracts validate live answers against
them.
"""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from apikeys.output import OutputSerializer, computed, render_function
from merchandising import selectors

S = serializers


def _n(field: S.Field) -> S.Field:
    """``field`` that may be null (kept in ``_kwargs`` too: fields are deep-copied from them per instance)."""
    field.allow_null = field._kwargs["allow_null"] = True
    return field


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _iso_of(attribute: str):
    return lambda obj: iso(getattr(obj, attribute))


def _or_none(attribute: str):
    """The attribute, or None when it is empty ("" or 0 stored for "not set")."""
    return lambda obj: getattr(obj, attribute) or None


def _one(serializer: type[OutputSerializer], get):
    """A nested object: ``serializer``'s body of ``get(instance)``, or None."""

    render = None

    def value(obj):
        nonlocal render
        inner = get(obj)
        if inner is None:
            return None
        if render is None:  # resolved on first use: the serializer class may be declared below
            render = render_function(serializer)
        return render(inner)

    return value


class RecipeRefOut(OutputSerializer):
    id = S.IntegerField(source="pk")
    name = S.CharField()


class SortRunOut(OutputSerializer):
    kind = S.CharField()
    method = S.CharField()
    recipe_id = _n(S.IntegerField())
    sorted_at = computed(_n(S.DateTimeField()), _iso_of("started_at"))
    product_count = S.IntegerField()
    moves = S.IntegerField()
    moved_product_ids = S.ListField(child=S.IntegerField(), source="moved_products")


def _product_count(collection) -> int:
    # annotated by the list selector or set by the handler; counted otherwise
    count = getattr(collection, "product_count", None)
    return collection.memberships.count() if count is None else count


class CollectionOut(OutputSerializer):
    id = S.IntegerField(source="external_id")
    title = S.CharField()
    handle = S.CharField()
    enabled = S.BooleanField()
    metrics_id = _n(S.IntegerField(source="recipe_id"))
    recipe = computed(_n(RecipeRefOut()), _one(RecipeRefOut, lambda c: c.recipe if c.recipe_id else None))
    revert_sorting = computed(_n(S.CharField()), _or_none("revert_sorting"))
    product_count = computed(S.IntegerField(), _product_count)
    last_sorted_at = computed(_n(S.DateTimeField()), _iso_of("last_sorted_at"))
    sort_status = S.CharField(source="sort_state")
    sort_error = computed(_n(S.CharField()), _or_none("sort_error"))


class CollectionProductOut(OutputSerializer):
    # a collection's product: its membership row, the product joined

    product_id = S.IntegerField(source="product.external_id")
    title = S.CharField(source="product.name")
    position = S.IntegerField()
    score = _n(S.FloatField())
    score_details = _n(S.JSONField())
    boost = computed(S.IntegerField(), lambda m: getattr(selectors.product_setting(m.product), "boost", 0))


class StoreWritebackOut(OutputSerializer):
    state = S.ChoiceField(choices=["pending", "sending", "done", "failed", "skipped", "superseded"])
    sort_order = computed(
        _n(S.CharField(help_text="the collection sort order set in the store (MANUAL, BEST_SELLING, ...)")),
        _or_none("sort_order"),
    )
    moves = S.IntegerField(help_text="moves of the fewest-moves plan", source="move_count")
    moves_done = S.IntegerField(help_text="moves the store confirmed")
    calls = S.IntegerField(help_text="mutations the store accepted")
    job_ids = computed(S.ListField(child=S.CharField()), lambda wb: [j.get("id") for j in wb.job_ids if j.get("id")])
    attempts = S.IntegerField()
    error = computed(
        _n(S.CharField(help_text="why it failed (or, while retrying, the last transient error)")), _or_none("error")
    )
    updated_at = computed(_n(S.DateTimeField()), _iso_of("updated_at"))


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


def _collection_ids(recipe) -> list[int]:
    return sorted(c.external_id for c in recipe.collections.all())


class RecipeOut(OutputSerializer):
    id = S.IntegerField(source="pk")
    name = S.CharField()
    days = S.CharField()
    weights = S.DictField(child=S.FloatField())
    collection_count = computed(S.IntegerField(), lambda r: len(r.collections.all()))
    collection_ids = computed(S.ListField(child=S.IntegerField()), _collection_ids)


class OptionRuleOut(OutputSerializer):
    sort_type = S.CharField()
    sold_out = S.CharField()
    direction = S.CharField()
    days = S.CharField()
    csv_pattern = computed(_n(S.CharField()), _or_none("csv_pattern"))
    common_size = computed(_n(S.CharField()), _or_none("common_size"))
    last_sorted_at = computed(_n(S.DateTimeField()), _iso_of("last_sorted_at"))
    last_sort_method = computed(_n(S.CharField()), _or_none("last_sort_method"))


class ProductOptionOut(OutputSerializer):
    option_id = _n(S.IntegerField(source="external_id"))
    name = S.CharField()
    position = S.IntegerField()
    values = S.ListField(child=S.CharField())
    sorting = computed(_n(OptionRuleOut()), _one(OptionRuleOut, selectors.option_rule))


def _setting(name: str, default, wire=lambda value: value):
    """A value of the product's Dynasort setting (``default`` without one), as ``wire`` writes it."""

    def get(product):
        setting = selectors.product_setting(product)
        return wire(getattr(setting, name)) if setting is not None else default

    return get


class ProductOut(OutputSerializer):
    product_id = S.IntegerField(source="external_id")
    title = S.CharField(source="name")
    status = S.CharField()
    boost = computed(S.IntegerField(), _setting("boost", 0))
    enabled = computed(S.BooleanField(), _setting("option_sorting_enabled", False))
    sort_status = computed(S.CharField(), _setting("option_sort_state", "idle"))
    options_sorted_at = computed(_n(S.DateTimeField()), _setting("options_sorted_at", None, iso))
    options = ProductOptionOut(many=True)


def _money_text(attribute: str):
    return lambda obj: None if getattr(obj, attribute) is None else str(getattr(obj, attribute))


class VariantOut(OutputSerializer):
    variant_id = _n(S.IntegerField(source="external_id"))
    title = S.CharField()
    option1 = computed(_n(S.CharField()), _or_none("option1"))
    option2 = computed(_n(S.CharField()), _or_none("option2"))
    option3 = computed(_n(S.CharField()), _or_none("option3"))
    price = computed(S.CharField(), lambda v: str(v.price))
    compare_at_price = computed(_n(S.CharField()), _money_text("compare_at_price"))
    cost = computed(_n(S.CharField()), _money_text("cost"))
    inventory_quantity = S.IntegerField()
    sellable = S.BooleanField()


class ProductDetailOut(ProductOut):
    sort_error = computed(_n(S.CharField()), _setting("option_sort_error", None, lambda error: error or None))
    variants = VariantOut(many=True)
    # platform extension; get_product puts the product's latest writeback on it (selectors.product_detail)
    store_writeback = computed(
        _n(StoreWritebackOut(help_text="platform extension: the latest writeback of the option order to the store")),
        _one(StoreWritebackOut, lambda p: p.latest_writeback),
    )


class BoostOut(S.Serializer):
    product_id = S.IntegerField()
    boost = S.IntegerField()


class ProductDisabledOut(S.Serializer):
    product_id = S.IntegerField()
    enabled = S.BooleanField()


class QueuedOptionOut(OutputSerializer):
    # an option's sort rule, queued

    option_id = _n(S.IntegerField(source="option.external_id"))
    name = S.CharField(source="option.name")
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
