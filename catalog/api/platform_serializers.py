"""Input of the platform sync endpoints: Shopify REST objects, validated one item at a time.

These declarations are the whole sync input: the OpenAPI schema, and (compiled by apikeys/input.py) the fast
acceptor of validate_each. A new field is one line here.
"""

from __future__ import annotations

from rest_framework import serializers

from apikeys import input as compiled_input
from apikeys.api.results import echoed_id, field_errors
from apikeys.fields import StrictBooleanField, StrictCharField, StrictSerializer, StrictURLField, validate_text
from catalog import sync_validation
from catalog.api.fields import ExternalIdField

MAX_ITEMS = 1000


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, **kwargs)


def _text(max_length: int = 255) -> StrictCharField:
    return StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=max_length)


class ShopifyImageSerializer(serializers.Serializer):
    # Shopify image objects carry many more keys (id, width, alt ...); only src is used.
    src = StrictURLField(max_length=2048)


class ShopifyOptionSerializer(serializers.Serializer):
    # Storefront JSON has no option ids and Shopify's older API no position/values: the product's
    # validate() fills them in (sync_validation.complete_options), so every stored option is addressable.
    id = ExternalIdField(required=False, allow_null=True, help_text="derived from product id and position if absent")
    name = StrictCharField(max_length=255)
    position = serializers.IntegerField(min_value=1, max_value=3, required=False, help_text="list order if absent")
    values = serializers.ListField(
        child=StrictCharField(max_length=255, allow_blank=True),
        max_length=250,
        required=False,
        help_text="the variants' values of this option if absent",
    )


class ShopifyVariantSerializer(serializers.Serializer):
    id = ExternalIdField()
    title = _text()
    option1 = _text()
    option2 = _text()
    option3 = _text()
    price = _money()
    compare_at_price = _money(required=False, allow_null=True)
    cost = _money(required=False, allow_null=True)
    sku = _text()
    barcode = _text(64)
    inventory_quantity = serializers.IntegerField(required=False, min_value=-(2**31), max_value=2**31 - 1)
    inventory_policy = serializers.ChoiceField(choices=["deny", "continue"], required=False, default="deny")
    inventory_management = StrictCharField(
        required=False, allow_null=True, max_length=50, help_text="null: stock not tracked; absent: tracked"
    )
    available = StrictBooleanField(required=False, help_text="storefront JSON: whether the variant can be bought")
    inventory_item_id = ExternalIdField(required=False, allow_null=True)
    created_at = serializers.DateTimeField(required=False, allow_null=True)


class ShopifyProductSerializer(serializers.Serializer):
    """One product as Shopify's REST API returns it (unknown keys are ignored, as a forwarded object has many)."""

    id = ExternalIdField()
    title = StrictCharField(max_length=255)
    body_html = _text(200_000)
    vendor = _text()
    product_type = _text()
    handle = _text()
    status = serializers.ChoiceField(choices=["active", "draft", "archived"], required=False, default="active")
    tags = serializers.JSONField(required=False)
    created_at = serializers.DateTimeField(required=False, allow_null=True)
    image = ShopifyImageSerializer(required=False, allow_null=True)
    options = ShopifyOptionSerializer(many=True, required=False, max_length=3)
    variants = ShopifyVariantSerializer(many=True, required=False, max_length=2000)

    def validate_tags(self, value):
        if value is None:
            return ""
        if isinstance(value, list) and all(isinstance(t, str) for t in value):
            value = ", ".join(value)
        elif not isinstance(value, str):
            raise serializers.ValidationError("Must be a comma-separated string or a list of strings.")
        # plain ASCII without NUL is valid text: no per-character surrogate scan for the usual tags
        return value if value.isascii() and "\x00" not in value else validate_text(value)

    def validate(self, attrs):
        try:
            sync_validation.complete_options(attrs["id"], attrs.get("options", []), attrs.get("variants", []))
        except ValueError:
            raise serializers.ValidationError({"options": ["Option positions must be unique."]}) from None
        positions = [o["position"] for o in attrs.get("options", [])]
        if len(positions) != len(set(positions)):
            raise serializers.ValidationError({"options": ["Option positions must be unique."]})
        ids = [v["id"] for v in attrs.get("variants", [])]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError({"variants": ["Variant ids must be unique."]})
        return attrs


class ShopifyLineItemSerializer(serializers.Serializer):
    product_id = ExternalIdField()
    variant_id = ExternalIdField(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    price = _money()
    total_discount = _money(required=False, default=0)


class ShopifyOrderSerializer(serializers.Serializer):
    id = ExternalIdField()
    created_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(required=False, allow_null=True)
    line_items = ShopifyLineItemSerializer(many=True, max_length=500)


class ProductSyncInputSerializer(StrictSerializer):
    products = serializers.ListField(child=serializers.JSONField(), max_length=MAX_ITEMS, allow_empty=False)


class OrderSyncInputSerializer(StrictSerializer):
    orders = serializers.ListField(child=serializers.JSONField(), max_length=MAX_ITEMS, allow_empty=False)


def envelope_items(serializer_class, data, key: str) -> list:
    """The item list of a sync body, validated as ``serializer_class`` (the envelope) would.

    The envelope's ListField(child=JSONField()) re-encodes every item to JSON only to learn it is JSON
    (20-30 ms for 1000 products); a body the JSON parser produced always is. So a plain, well-formed envelope
    is taken as is, and anything else goes through the serializer, which raises the usual 400.
    """
    if type(data) is dict and len(data) == 1:
        items = data.get(key)
        if type(items) is list and 0 < len(items) <= MAX_ITEMS and all(item is not None for item in items):
            return items
    params = serializer_class(data=data)
    params.is_valid(raise_exception=True)
    return params.validated_data[key]


def validate_each(serializer_class, items: list) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Validate every item on its own: (index, data) of the valid ones, and a rejection per invalid one.

    Items go through the serializer compiled from its declaration (apikeys/input.py, about 100 times faster
    than DRF's field walk, measured, with the same validated data); an item it does not take goes through the
    serializer itself, which gives the decision and the error body.
    """
    accept = compiled_input.accept_function(serializer_class)
    cache = compiled_input.Cache()
    valid, rejected = [], []
    for i, item in enumerate(items):
        if accept is not None:
            try:
                valid.append((i, accept(item, cache)))
                continue
            except compiled_input.Unsure:
                pass
        serializer = serializer_class(data=item)
        if serializer.is_valid():
            valid.append((i, serializer.validated_data))
        else:
            rejected.append({"index": i, "id": echoed_id(item), "errors": field_errors(serializer.errors)})
    return valid, rejected


class CategorySuggestionOutputSerializer(serializers.Serializer):
    full_external_id = serializers.CharField()
    category_external_id = serializers.IntegerField()
    name = serializers.CharField()
    score = serializers.FloatField(help_text="probability-like, 0 to 1")


class ProductCategorySuggestionsOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(help_text="the shop's product id")
    assigned = serializers.CharField(allow_null=True, help_text="full_external_id of the product's category")
    source = serializers.ChoiceField(choices=["merchant", "suggested"], allow_null=True)
    suggestions = CategorySuggestionOutputSerializer(many=True, help_text="best first, up to five")


class CategorySuggestionsRefreshOutputSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="products without a merchant-set category queued for suggestions")
