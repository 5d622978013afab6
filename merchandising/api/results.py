"""The ``data`` of each Dynasort action's success body: the OpenAPI document and the answers alike.

Every action's ``data`` is rendered from these declarations (apikeys.output), so what the schema says is
what the handlers of ``merchandising/actions.py`` answer; the fuzz and SDK tests in tests/contracts validate
live answers against them. A composite answer (a page of a collection's products, a bulk change, a sort
plan) renders from a small typed value declared next to its serializer, never from a dict built by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from apikeys.output import OutputSerializer, computed, render_function
from merchandising import selectors

if TYPE_CHECKING:
    from catalog.models import Product
    from merchandising.models import Collection, CollectionProduct, OptionSortRule, ProductSetting, Recipe, SortRun
    from merchandising.services import SortPlan

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


@dataclass(slots=True)
class ProductsPage:
    """``get_collection``'s products: the memberships from ``offset`` (at most ``limit``) of ``total``."""

    members: list[CollectionProduct]
    offset: int
    limit: int
    total: int

    @property
    def shown_to(self) -> int:
        return self.offset + len(self.members)

    @property
    def has_more(self) -> bool:
        return self.shown_to < self.total

    @property
    def next_offset(self) -> int | None:
        return self.shown_to if self.has_more else None

    @property
    def note(self) -> str:
        """Whether and how to get the rest, in words: the answer itself says it."""
        if not self.members:
            return f"No products at offset {self.offset}; the collection has {self.total}."
        if self.has_more:
            return (
                f"Products {self.offset + 1}-{self.shown_to} of {self.total}; "
                f"call get_collection with offset={self.shown_to} for more."
            )
        return f"Products {self.offset + 1}-{self.shown_to} of {self.total}; there are no more."


def _explanation(collection: Collection) -> str | None:
    run = collection.last_sort
    return (run.message or None) if run is not None else None


class CollectionDetailOut(CollectionOut):
    # get_collection puts on the collection: product_count, last_sort (its latest run), latest_writeback and
    # products_page (a ProductsPage)
    last_sort = _n(SortRunOut())
    last_sort_explanation = computed(
        _n(S.CharField(help_text="platform extension: how the last sort ordered the products")), _explanation
    )
    store_writeback = _n(
        StoreWritebackOut(
            help_text="platform extension: the latest writeback of an order to the Shopify store",
            source="latest_writeback",
        )
    )
    offset = S.IntegerField(source="products_page.offset")
    limit = S.IntegerField(source="products_page.limit")
    has_more = S.BooleanField(
        help_text="more products after these: call again with offset=next_offset", source="products_page.has_more"
    )
    next_offset = _n(
        S.IntegerField(
            help_text="the offset of the next page, null when there is none", source="products_page.next_offset"
        )
    )
    products_note = S.CharField(
        help_text="which products are shown and how to get the rest", source="products_page.note"
    )
    products = CollectionProductOut(many=True, source="products_page.members")


class CollectionDisabledOut(CollectionOut):
    # disable_collection puts the revert sort it ran (None without a revert order) on the collection as reverted
    reverted = _n(SortRunOut())


class ToggledOut(OutputSerializer):
    # a collection, with the revert sort that disabling it ran as reverted (None when enabled or not reverted)
    id = S.IntegerField(source="external_id")
    enabled = S.BooleanField()
    reverted = _n(SortRunOut())


@dataclass(slots=True)
class BulkToggled:
    status: int
    collections: list[Collection]  # each with reverted set (ToggledOut)


class BulkToggleOut(OutputSerializer):
    updated = computed(S.IntegerField(), lambda r: len(r.collections))
    status = S.IntegerField()
    collections = ToggledOut(many=True)


class AssignedOut(OutputSerializer):
    # a collection
    id = S.IntegerField(source="external_id")
    metrics_id = _n(S.IntegerField(source="recipe_id"))
    revert_sorting = computed(_n(S.CharField()), _or_none("revert_sorting"))


@dataclass(slots=True)
class BulkAssigned:
    metrics_id: int
    collections: list[Collection]


class BulkAssignOut(OutputSerializer):
    updated = computed(S.IntegerField(), lambda r: len(r.collections))
    metrics_id = S.IntegerField()
    collections = AssignedOut(many=True)


class PreviewProductOut(OutputSerializer):
    # a product with its place in a sort plan on it (SortPreview.products)
    product_id = S.IntegerField(source="external_id")
    title = S.CharField(source="name")
    position = S.IntegerField(help_text="proposed position, 0 first")
    current_position = _n(S.IntegerField())
    score = S.FloatField(source="scored.score")
    score_details = S.DictField(
        child=S.FloatField(), help_text="points each recipe metric gave", source="scored.points"
    )
    boost = S.IntegerField()
    sold_out = S.BooleanField(source="scored.sold_out")


class PreviewRecipeOut(RecipeRefOut):
    days = S.CharField(required=False)
    weights = S.DictField(child=S.FloatField(), required=False)


def _sort_recipe(answer: SortQueued | SortApplied | SortPreview) -> dict[str, Any]:
    """The recipe's id and name; a preview's with its days and weights."""
    return render_function(PreviewRecipeOut if answer.status == "preview" else RecipeRefOut)(answer.recipe)


class SortQueuedOut(OutputSerializer):
    """``sort_collection``: queued (the vendor's answer), or with the platform extensions a preview
    (``dry_run``) or an applied plan (``plan_id``); the extension fields appear only then."""

    # rendered from a SortQueued, SortApplied or SortPreview, each by its own subclass below (the fields it has)
    collection_id = S.IntegerField(source="collection.external_id")
    status = S.ChoiceField(choices=["queued", "preview", "applied"])
    recipe = computed(PreviewRecipeOut(help_text="id and name; a preview adds days and weights"), _sort_recipe)
    queued_at = computed(
        _n(S.DateTimeField(required=False, help_text="queued sorts; null when a plan was applied")),
        _iso_of("queued_at"),
    )
    enabled = S.BooleanField(required=False, help_text="preview only", source="collection.enabled")
    plan_id = S.CharField(required=False, help_text="preview and applied only")
    sorted_at = computed(S.DateTimeField(required=False, help_text="applied only"), _iso_of("sorted_at"))
    product_count = S.IntegerField(required=False, help_text="preview and applied only")
    moves = S.IntegerField(required=False, help_text="products that move (fewest moves); preview and applied only")
    moved_product_ids = S.ListField(child=S.IntegerField(), required=False, help_text="first 250")
    products = PreviewProductOut(many=True, required=False, help_text="preview only: the first 250 positions")


# Each kind of sort_collection answer is SortQueuedOut without the fields it does not have (a field set to
# None is removed from a serializer subclass): the keys keep SortQueuedOut's order.


class _QueuedBody(SortQueuedOut):
    enabled = plan_id = sorted_at = product_count = moves = moved_product_ids = products = None


class _AppliedBody(SortQueuedOut):
    enabled = products = None


class _PreviewBody(SortQueuedOut):
    queued_at = sorted_at = None


@dataclass(slots=True)
class SortQueued:
    """A recipe sort queued (the collection with its recipe loaded)."""

    collection: Collection
    status: ClassVar[str] = "queued"
    body: ClassVar[type[SortQueuedOut]] = _QueuedBody

    @property
    def recipe(self) -> Recipe:
        return self.collection.recipe

    @property
    def queued_at(self) -> datetime | None:
        return self.collection.sort_requested_at


@dataclass(slots=True)
class SortApplied:
    """A previewed plan written: its sort run."""

    collection: Collection
    run: SortRun
    plan_id: str
    status: ClassVar[str] = "applied"
    body: ClassVar[type[SortQueuedOut]] = _AppliedBody
    queued_at: ClassVar[None] = None

    @property
    def recipe(self) -> Recipe:
        return self.collection.recipe

    @property
    def sorted_at(self) -> datetime:
        return self.run.started_at

    @property
    def product_count(self) -> int:
        return self.run.product_count

    @property
    def moves(self) -> int:
        return self.run.moves

    @property
    def moved_product_ids(self) -> list[int]:
        return self.run.moved_products


PREVIEW_PRODUCTS = 250  # products shown in detail, and moved products listed, by a preview


@dataclass(slots=True)
class SortPreview:
    """A dry run: the plan, with the products it shows (by internal id) loaded."""

    plan: SortPlan
    products_by_pk: dict[int, Product]
    status: ClassVar[str] = "preview"
    body: ClassVar[type[SortQueuedOut]] = _PreviewBody

    @property
    def collection(self) -> Collection:
        return self.plan.collection

    @property
    def recipe(self) -> Recipe:
        return self.plan.recipe

    @property
    def plan_id(self) -> str:
        return self.plan.plan_id

    @property
    def product_count(self) -> int:
        return len(self.plan.new)

    @property
    def moves(self) -> int:
        return len(self.plan.moved)

    @property
    def moved_product_ids(self) -> list[int]:
        products = self.products_by_pk
        return [products[pk].external_id for pk in self.plan.moved[:PREVIEW_PRODUCTS] if pk in products]

    @property
    def products(self) -> list[Product]:
        """The first PREVIEW_PRODUCTS products in the proposed order, each with its place in the plan put on
        it as PreviewProductOut reads it: position, current_position, scored (sorting.Scored) and boost
        (attributes on the instances loaded for this answer: cheaper per row than an object of its own)."""
        plan, products = self.plan, self.products_by_pk
        old_position = {pk: i for i, pk in enumerate(plan.current)}
        shown = []
        for i, pk in enumerate(plan.new[:PREVIEW_PRODUCTS]):
            product = products[pk]
            product.position, product.current_position = i, old_position.get(pk)
            product.scored, product.boost = plan.scores[pk], plan.boosts.get(pk, 0)
            shown.append(product)
        return shown


def sort_answer_out(answer: SortQueued | SortApplied | SortPreview) -> dict[str, Any]:
    return render_function(answer.body)(answer)


@dataclass(slots=True)
class Reverted:
    collection_id: int
    reverted: SortRun | None


class RevertedOut(OutputSerializer):
    # a Reverted
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


@dataclass(slots=True)
class ProductSettingChanged:
    """A product's setting as written, and the product id the call named."""

    product_id: int
    setting: ProductSetting


class BoostOut(OutputSerializer):
    # a ProductSettingChanged
    product_id = S.IntegerField()
    boost = S.IntegerField(source="setting.boost")


class ProductDisabledOut(OutputSerializer):
    # a ProductSettingChanged
    product_id = S.IntegerField()
    enabled = S.BooleanField(source="setting.option_sorting_enabled")


class QueuedOptionOut(OutputSerializer):
    # an option's sort rule, queued

    option_id = _n(S.IntegerField(source="option.external_id"))
    name = S.CharField(source="option.name")
    sort_type = S.CharField()


@dataclass(slots=True)
class OptionSortQueued:
    product: Product
    options: list[OptionSortRule]  # the rules that sort, each with its option loaded
    status: ClassVar[str] = "queued"


class ProductSortQueuedOut(OutputSerializer):
    # an OptionSortQueued
    product_id = S.IntegerField(source="product.external_id")
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
