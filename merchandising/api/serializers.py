"""Input serializers of the Dynasort actions (one per action) and output shaping."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from merchandising import option_sorting
from merchandising.models import BOOST_MAX, BOOST_MIN, Direction, RevertSorting, SizeSystem, SoldOut, SortType, Window

MAX_IDS = 250  # ids per bulk action
MAX_PRODUCT_ID = 2**63 - 1


class StrictIntegerField(serializers.IntegerField):
    """An integer that must be a JSON number without a fraction: "123", true and 1.5 are refused."""

    default_error_messages = {"invalid": "A JSON integer is required."}

    def __init__(self, **kwargs):
        # within a signed 64-bit column unless narrower: 2**63 as an offset or since_id was a database error
        kwargs.setdefault("min_value", -MAX_PRODUCT_ID - 1)
        kwargs.setdefault("max_value", MAX_PRODUCT_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(int(data))


def _id_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=MAX_PRODUCT_ID, **kwargs)


class StrictChoiceField(serializers.ChoiceField):
    """A choice that must be given as a string (so 1 is not taken for "1")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class DaysField(serializers.ChoiceField):
    """7, 30, 60, 90, 365 or all; as a string ("30") or a number (30)."""

    def __init__(self, **kwargs):
        super().__init__(choices=Window.values, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class NoParams(serializers.Serializer):
    pass


class PageParams(serializers.Serializer):
    since_id = StrictIntegerField(required=False, min_value=0, default=0, help_text="only ids above this one")
    limit = StrictIntegerField(
        required=False, min_value=1, max_value=250, help_text="at most 250; without it, every collection"
    )


class ProductPageParams(PageParams):
    limit = StrictIntegerField(required=False, min_value=1, max_value=250, default=50, help_text="at most 250")


class CollectionIdParams(serializers.Serializer):
    collection_id = _id_field(help_text="Shopify collection ID")


class GetCollectionParams(CollectionIdParams):
    offset = StrictIntegerField(required=False, min_value=0, default=0, help_text="products to skip")
    limit = StrictIntegerField(
        required=False, min_value=1, max_value=1000, default=250, help_text="products to return, at most 1000"
    )


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false ("true", 1 and "yes" are refused)."""

    default_error_messages = {"invalid": "A JSON boolean (true or false) is required."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


PLAN_ID_LENGTH = 45  # "plan_" and 40 hex digits


class SortCollectionParams(CollectionIdParams):
    """``sort_collection``: the vendor's collection_id plus two optional platform extensions."""

    dry_run = StrictBooleanField(
        required=False,
        default=False,
        help_text="Platform extension: true previews the sort and changes nothing (proposed order, each product's "
        "score by metric and boost, how many products move, a plan_id)",
    )
    plan_id = serializers.RegexField(
        r"^plan_[0-9a-f]{40}$",
        required=False,
        max_length=PLAN_ID_LENGTH,
        help_text="Platform extension: apply exactly the order a dry_run previewed, now; refused (invalid_params) "
        "if the collection's data changed since",
    )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("dry_run") and "plan_id" in attrs:
            raise serializers.ValidationError({"plan_id": ["plan_id applies a preview; send it without dry_run"]})
        return attrs


class UpdateCollectionParams(CollectionIdParams):
    metrics_id = _id_field(help_text="Recipe ID to assign (use list_recipes to find IDs)")
    revert_sorting = StrictChoiceField(
        choices=RevertSorting.values, required=False, help_text="Sort order to revert to when disabled"
    )


class CollectionIdsField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=_id_field(), min_length=1, max_length=MAX_IDS, **kwargs)


class BulkToggleParams(serializers.Serializer):
    collection_ids = CollectionIdsField(help_text=f"Array of Shopify collection IDs (1 to {MAX_IDS})")
    status = serializers.ChoiceField(choices=[0, 1], help_text="1 to enable, 0 to disable")

    def to_internal_value(self, data):
        status = data.get("status") if isinstance(data, dict) else None
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise serializers.ValidationError({"status": ["status must be the number 0 or 1"]})
        return super().to_internal_value(data)


class BulkAssignParams(serializers.Serializer):
    collection_ids = CollectionIdsField(help_text=f"Array of Shopify collection IDs (1 to {MAX_IDS})")
    metrics_id = _id_field(help_text="Recipe ID to assign")
    revert_sorting = StrictChoiceField(choices=RevertSorting.values, required=False, help_text="Revert sort order")


class ProductIdParams(serializers.Serializer):
    product_id = _id_field(help_text="Shopify product ID")


class BoostParams(ProductIdParams):
    boost = StrictIntegerField(
        min_value=BOOST_MIN,
        max_value=BOOST_MAX,
        help_text=f"Integer added to the ranking score ({BOOST_MIN} to {BOOST_MAX}); 0 = no boost",
    )


class OptionRuleParams(serializers.Serializer):
    option_id = _id_field(help_text="The option ID from the product (use get_product)")
    option_name = serializers.CharField(max_length=255, help_text='The option name (e.g. "Color", "Size")')
    sort_type = StrictChoiceField(choices=SortType.values, help_text="Sort method")
    sold_out = StrictChoiceField(
        choices=SoldOut.values, required=False, default="bottom", help_text="bottom (default), top or ignore"
    )
    direction = StrictChoiceField(
        choices=Direction.values,
        required=False,
        help_text="desc (default) or asc; ordering types (alphabetical, numeric, common_sizes) default to asc",
    )
    days = DaysField(required=False, default="30", help_text="7, 30 (default), 60, 90, 365 or all")
    csv_pattern = serializers.CharField(
        required=False,
        max_length=5000,
        help_text='Custom order for comma_separated (e.g. "Red,Blue,Green"); required with comma_separated, '
        "refused with any other sort_type",
    )
    common_size = StrictChoiceField(
        choices=SizeSystem.values,
        required=False,
        help_text="Size system for common_sizes (e.g. us_apparel); detected from the values when not given; "
        "refused with any other sort_type",
    )

    def validate(self, attrs: dict) -> dict:
        sort_type = attrs["sort_type"]
        if "csv_pattern" in attrs and sort_type != SortType.COMMA_SEPARATED:
            raise serializers.ValidationError({"csv_pattern": ["csv_pattern is only allowed with comma_separated"]})
        if sort_type == SortType.COMMA_SEPARATED and not option_sorting.parse_pattern(attrs.get("csv_pattern", "")):
            raise serializers.ValidationError({"csv_pattern": ["comma_separated needs a non-empty csv_pattern"]})
        if "common_size" in attrs and sort_type != SortType.COMMON_SIZES:
            raise serializers.ValidationError({"common_size": ["common_size is only allowed with common_sizes"]})
        return attrs


class EnableProductParams(ProductIdParams):
    options = OptionRuleParams(many=True, required=False, default=list, help_text="option sorting configurations")

    def validate_options(self, value: list) -> list:
        if len(value) > 3:
            raise serializers.ValidationError("A product has at most 3 options")
        return value


# ---- platform sync ------------------------------------------------------------------------


class CollectionSyncItem(serializers.Serializer):
    id = _id_field()
    title = serializers.CharField(max_length=255)
    handle = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    sort_order = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    product_ids = serializers.ListField(child=_id_field(), max_length=50_000, default=list)


class CollectionSyncInput(serializers.Serializer):
    collections = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=1000)


class PromptOutput(serializers.Serializer):
    prompt = serializers.CharField()
    endpoint = serializers.CharField()
    store_url = serializers.CharField()


class ToolsExportParams(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=["openai", "anthropic"],
        required=False,
        default="openai",
        help_text="openai (the default): Chat Completions tools (strict only where every parameter is required); "
        "anthropic: Messages API tools",
    )


class ToolsExportOutput(serializers.Serializer):
    format = serializers.CharField()
    endpoint = serializers.CharField(help_text="where to send each call: POST with {action, ...arguments}")
    tools = serializers.ListField(child=serializers.DictField())
