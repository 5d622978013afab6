"""The compiled acceptor (apikeys/input.py) accepts exactly what the DRF serializers accept, as they would.

Every case runs through both: an item the serializer accepts, the compiled acceptor must accept with the same
validated data (values and types, Decimal exponents included); an item the serializer refuses, it must refuse
(Unsure), and validate_each must answer exactly as the serializer alone does. The sync serializers' cases guard
the fields they use; the field zoo below guards each field type the compiler knows, and its fallback to DRF.
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from rest_framework import serializers

from apikeys import input as compiled_input
from apikeys.fields import StrictBooleanField, StrictCharField, StrictURLField
from catalog import sync_validation
from catalog.api.fields import ExternalIdField
from catalog.api.platform_serializers import (
    ShopifyOrderSerializer,
    ShopifyProductSerializer,
    ShopifyVariantSerializer,
    validate_each,
)
from tests.catalog.test_platform_sync import shopify_product


def plain(value):
    """Validated data as comparable plain values with their types (1 is not True, "49.9" is not "49.90")."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if hasattr(value, "isoformat"):
        return ("datetime", value.isoformat(), str(value.tzinfo))
    return (type(value).__name__, value)


def compiled(serializer_class, item):
    """(True, plain data) if the compiled acceptor takes ``item``, (False, None) if it leaves it to DRF."""
    try:
        return True, plain(compiled_input.accept_function(serializer_class)(item, compiled_input.Cache()))
    except compiled_input.Unsure:
        return False, None


def drf(serializer_class, item):
    serializer = serializer_class(data=copy.deepcopy(item))
    return (True, plain(serializer.validated_data)) if serializer.is_valid() else (False, serializer.errors)


def with_variant(**changes):
    item = shopify_product(1)
    item["variants"][0].update(changes)
    return item


def without_variant_key(key):
    item = shopify_product(1)
    del item["variants"][0][key]
    return item


def with_option(**changes):
    item = shopify_product(1)
    item["options"][0].update(changes)
    return item


def without_option_keys(*keys):
    item = shopify_product(1)
    for key in keys:
        del item["options"][0][key]
    return item


def storefront_product():
    """The shape of a storefront /products.json product: options without ids, variants with only `available`."""
    item = shopify_product(1)
    del item["options"][0]["id"]
    for v in item["variants"]:
        for key in ("inventory_quantity", "inventory_management", "inventory_policy", "cost", "barcode"):
            del v[key]
        v["available"] = v["id"] % 2 == 0
    return item


def legacy_product():
    """Shopify's older API shape (its client-library fixtures): options as ``[{"name": "Title"}]``."""
    item = shopify_product(1)
    item["options"] = [{"name": "Size"}, {"name": "Colour", "values": ["Red"]}]
    return item


PRODUCTS = {
    "full": shopify_product(1),
    "minimal": {"id": 5, "title": "x"},
    "string_id": shopify_product(1, id="42"),
    "padded_string_id": shopify_product(1, id=" 42 "),
    "id_zero": shopify_product(1, id=0),
    "id_bool": shopify_product(1, id=True),
    "id_float": shopify_product(1, id=4.0),
    "id_huge": shopify_product(1, id=2**63),
    "id_max": shopify_product(1, id=2**63 - 1),
    "title_padded": shopify_product(1, title="  Shirt  "),
    "title_blank": shopify_product(1, title="   "),
    "title_255": shopify_product(1, title="t" * 255),
    "title_256": shopify_product(1, title="t" * 256),
    "title_padded_256": shopify_product(1, title=" " + "t" * 255 + " "),
    "title_nul": shopify_product(1, title="a\x00b"),
    "title_surrogate": shopify_product(1, title="a\ud800b"),
    "title_unicode": shopify_product(1, title="Hemd für Ärzte ✓"),
    "title_number": shopify_product(1, title=5),
    "body_null": shopify_product(1, body_html=None),
    "body_blank": shopify_product(1, body_html="  "),
    "vendor_list": shopify_product(1, vendor=["a"]),
    "status_draft": shopify_product(1, status="draft"),
    "status_null": shopify_product(1, status=None),
    "status_blank": shopify_product(1, status=""),
    "status_list": shopify_product(1, status=["active"]),
    "tags_string": shopify_product(1, tags="  a, b "),
    "tags_null": shopify_product(1, tags=None),
    "tags_mixed": shopify_product(1, tags=["a", 1]),
    "tags_empty_list": shopify_product(1, tags=[]),
    "tags_nul": shopify_product(1, tags="a\x00b"),
    "tags_surrogate": shopify_product(1, tags="a, \ud800"),
    "tags_list_nul": shopify_product(1, tags=["a", "b\x00"]),
    "tags_list_surrogate": shopify_product(1, tags=["\udfff"]),
    "tags_unicode": shopify_product(1, tags=["für", "✓", "😀"]),
    "created_naive": shopify_product(1, created_at="2025-03-01T10:00:00"),
    "created_date_only": shopify_product(1, created_at="2025-03-01"),
    "created_null": shopify_product(1, created_at=None),
    "created_blank": shopify_product(1, created_at=""),
    "created_number": shopify_product(1, created_at=1700000000),
    "image_null": shopify_product(1, image=None),
    "image_string": shopify_product(1, image="https://cdn.example.com/1.jpg"),
    "image_no_src": shopify_product(1, image={"width": 3}),
    "image_bad_url": shopify_product(1, image={"src": "not a url"}),
    "image_ftp": shopify_product(1, image={"src": "ftp://cdn.example.com/1.jpg"}),
    "image_padded": shopify_product(1, image={"src": " https://cdn.example.com/1.jpg "}),
    "image_query": shopify_product(1, image={"src": "https://cdn.shopify.com/s/files/1/0/1.jpg?v=1700000000"}),
    "image_upper_host": shopify_product(1, image={"src": "https://CDN.Example.com/1.jpg"}),
    "image_port": shopify_product(1, image={"src": "https://cdn.example.com:8443/1.jpg"}),
    "image_ip": shopify_product(1, image={"src": "http://192.168.0.1/1.jpg"}),
    "image_hyphen_label": shopify_product(1, image={"src": "https://-cdn.example.com/1.jpg"}),
    "image_numeric_tld": shopify_product(1, image={"src": "https://cdn.example.123/1.jpg"}),
    "image_space_in_path": shopify_product(1, image={"src": "https://cdn.example.com/a b.jpg"}),
    "image_long_label": shopify_product(1, image={"src": f"https://{'a' * 64}.example.com/1.jpg"}),
    "image_long_host": shopify_product(1, image={"src": "https://" + "a" * 60 + ".b" * 100 + ".com/1.jpg"}),
    "options_null": shopify_product(1, options=None),
    "options_dict": shopify_product(1, options={"name": "Size"}),
    "options_four": shopify_product(1, options=[{"name": f"O{n}", "position": n, "values": []} for n in (1, 2, 3, 3)]),
    "options_same_position": shopify_product(
        1, options=[{"name": "A", "position": 1, "values": []}, {"name": "B", "position": 1, "values": []}]
    ),
    "option_position_string": with_option(position="2"),
    "option_position_zero": with_option(position=0),
    "option_id_null": with_option(id=None),
    "option_id_string": with_option(id="7"),
    "option_values_padded": with_option(values=[" S ", "", "M"]),
    "option_values_null_item": with_option(values=["S", None]),
    "option_values_string": with_option(values="S"),
    "option_values_251": with_option(values=["v"] * 251),
    "option_name_blank": with_option(name=""),
    "option_without_position_and_values": without_option_keys("position", "values"),
    "option_without_id": without_option_keys("id"),
    "option_position_null": with_option(position=None),
    "option_values_null": with_option(values=None),
    "options_missing_positions_fill_free_ones": shopify_product(
        1, options=[{"name": "A"}, {"name": "B", "position": 1, "values": []}]
    ),
    "options_four_without_positions": shopify_product(1, options=[{"name": f"O{n}"} for n in range(4)]),
    "storefront": storefront_product(),
    "legacy": legacy_product(),
    "variant_available_string": with_variant(available="yes"),
    "variant_available_null": with_variant(available=None),
    "variants_null": shopify_product(1, variants=None),
    "variants_empty": shopify_product(1, variants=[]),
    "variants_duplicate_id": shopify_product(1, variants=[{"id": 9, "price": "1"}, {"id": 9, "price": "2"}]),
    "variant_not_object": shopify_product(1, variants=[5]),
    "price_one_decimal": with_variant(price="49.9"),
    "price_int": with_variant(price=49),
    "price_float": with_variant(price=49.9),
    "price_float_exponent": with_variant(price=1e-05),
    "price_padded": with_variant(price=" 49.90 "),
    "price_three_decimals": with_variant(price="49.901"),
    "price_trailing_zero_decimals": with_variant(price="49.900"),
    "price_negative": with_variant(price="-1.00"),
    "price_negative_zero": with_variant(price="-0"),
    "price_exponent": with_variant(price="1e3"),
    "price_eleven_digits": with_variant(price="12345678901"),
    "price_ten_digits": with_variant(price="1234567890.99"),
    "price_leading_zeros": with_variant(price="000000000001.00"),
    "price_nan": with_variant(price="NaN"),
    "price_arabic_digits": with_variant(price="\u0661\u0662"),
    "price_null": with_variant(price=None),
    "price_bool": with_variant(price=True),
    "price_missing": without_variant_key("price"),
    "compare_at_null": with_variant(compare_at_price=None),
    "cost_blank": with_variant(cost=""),
    "inventory_missing": without_variant_key("inventory_quantity"),
    "inventory_null": with_variant(inventory_quantity=None),
    "inventory_string": with_variant(inventory_quantity="5"),
    "inventory_float": with_variant(inventory_quantity=5.0),
    "inventory_negative": with_variant(inventory_quantity=-3),
    "inventory_too_big": with_variant(inventory_quantity=2**31),
    "inventory_bool": with_variant(inventory_quantity=True),
    "policy_missing": without_variant_key("inventory_policy"),
    "policy_null": with_variant(inventory_policy=None),
    "policy_other": with_variant(inventory_policy="allow"),
    "management_blank": with_variant(inventory_management=""),
    "management_long": with_variant(inventory_management="m" * 51),
    "barcode_65": with_variant(barcode="1" * 65),
    "barcode_null": with_variant(barcode=None),
    "variant_id_missing": without_variant_key("id"),
    "variant_id_string": with_variant(id="100"),
    "variant_created_null": with_variant(created_at=None),
    "variant_created_offset": with_variant(created_at="2025-03-01T10:00:00+02:00"),
    "not_an_object": [1, 2],
    "null": None,
}

LINE = {"product_id": 1, "variant_id": 100, "quantity": 2, "price": "49.90", "total_discount": "5.00"}
ORDERS = {
    "full": {"id": 7, "created_at": "2025-05-01T23:30:00-02:00", "cancelled_at": None, "line_items": [LINE]},
    "no_lines_key": {"id": 7, "created_at": "2025-05-01T23:30:00Z"},
    "empty_lines": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "line_items": []},
    "created_null": {"id": 7, "created_at": None, "line_items": [LINE]},
    "created_missing": {"id": 7, "line_items": [LINE]},
    "created_blank": {"id": 7, "created_at": "", "line_items": [LINE]},
    "cancelled_blank": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "cancelled_at": "", "line_items": []},
    "cancelled": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "cancelled_at": "2025-05-02", "line_items": []},
    "discount_missing": {
        "id": 7,
        "created_at": "2025-05-01T23:30:00Z",
        "line_items": [{k: v for k, v in LINE.items() if k != "total_discount"}],
    },
    "discount_null": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "line_items": [{**LINE, "total_discount": None}]},
    "variant_missing": {
        "id": 7,
        "created_at": "2025-05-01T23:30:00Z",
        "line_items": [{k: v for k, v in LINE.items() if k != "variant_id"}],
    },
    "variant_null": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "line_items": [{**LINE, "variant_id": None}]},
    "quantity_zero": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "line_items": [{**LINE, "quantity": 0}]},
    "quantity_string": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "line_items": [{**LINE, "quantity": "2"}]},
    "product_text": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "line_items": [{**LINE, "product_id": "x"}]},
    "lines_501": {"id": 7, "created_at": "2025-05-01T23:30:00Z", "line_items": [LINE] * 501},
}


@pytest.mark.parametrize("case", sorted(PRODUCTS))
def test_compiled_product_acceptor_answers_as_the_serializer(case):
    item = PRODUCTS[case]
    accepted, expected = drf(ShopifyProductSerializer, item)
    assert compiled(ShopifyProductSerializer, copy.deepcopy(item)) == ((True, expected) if accepted else (False, None))


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/1.jpg",
        "http://a.bc",
        "https://cdn.shopify.com/s/files/1/0/1.jpg?v=1#x",
        "https://x" + ".y" * 130 + ".com/1.jpg",  # host over 253 characters
        "https://a-.example.com/1.jpg",
        "https://example.c/1.jpg",
        "https://example.com/a\tb",
        "https://exa_mple.com/1.jpg",
        "https://example.com./1.jpg",
    ],
)
def test_plain_url_fast_path_accepts_nothing_the_url_validator_refuses(url):
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    plain_match = compiled_input.PLAIN_URL.fullmatch(url)
    if plain_match is None or len(plain_match[1]) > 253:
        return
    try:
        URLValidator()(url)
    except ValidationError:
        pytest.fail(f"the fast path accepts {url!r}, URLValidator refuses it")


@pytest.mark.parametrize("case", sorted(ORDERS))
def test_compiled_order_acceptor_answers_as_the_serializer(case):
    item = ORDERS[case]
    accepted, expected = drf(ShopifyOrderSerializer, item)
    assert compiled(ShopifyOrderSerializer, copy.deepcopy(item)) == ((True, expected) if accepted else (False, None))


def test_every_sync_field_has_a_compiled_checker():
    """No field of the sync input is left to DRF's field walk on every value (the speed of the sync depends on
    it): a field type or validator the compiler does not know shows up here."""
    assert compiled_input.drf_fields(ShopifyProductSerializer) == []
    assert compiled_input.drf_fields(ShopifyOrderSerializer) == []


@pytest.mark.parametrize(
    ("serializer_class", "cases"), [(ShopifyProductSerializer, PRODUCTS), (ShopifyOrderSerializer, ORDERS)]
)
def test_validate_each_answers_as_the_serializer_alone(serializer_class, cases):
    from apikeys.errors import _flatten

    items = [copy.deepcopy(item) for item in cases.values()]
    valid, rejected = validate_each(serializer_class, items)
    expected_valid, expected_rejected = [], {}
    for i, item in enumerate(items):
        accepted, data = drf(serializer_class, item)
        if accepted:
            expected_valid.append((i, data))
        else:
            expected_rejected[i] = _flatten(data)
    assert [(i, plain(data)) for i, data in valid] == expected_valid
    assert {r["index"]: r["errors"] for r in rejected} == expected_rejected
    assert expected_rejected  # the cases do cover rejections


ENVELOPES = {
    "plain": {"products": [{"id": 1}, {"id": 2, "title": None}, [], "x", 5]},
    "max": {"products": [{}] * 1000},
    "too_many": {"products": [{}] * 1001},
    "empty": {"products": []},
    "null_item": {"products": [{"id": 1}, None]},
    "not_list": {"products": {"id": 1}},
    "null": {"products": None},
    "extra_key": {"products": [{}], "extra": 1},
    "wrong_key": {"items": [{}]},
    "none": {},
    "list": [{"products": [{}]}],
    "string": "products",
}


@pytest.mark.parametrize("case", sorted(ENVELOPES))
def test_envelope_items_answers_as_the_envelope_serializer(case):
    from rest_framework.exceptions import ValidationError

    from catalog.api.platform_serializers import ProductSyncInputSerializer, envelope_items

    body = ENVELOPES[case]
    serializer = ProductSyncInputSerializer(data=copy.deepcopy(body))
    if serializer.is_valid():
        assert (
            envelope_items(ProductSyncInputSerializer, copy.deepcopy(body), "products")
            == serializer.validated_data["products"]
        )
    else:
        with pytest.raises(ValidationError) as raised:
            envelope_items(ProductSyncInputSerializer, copy.deepcopy(body), "products")
        assert raised.value.detail == serializer.errors


def test_missing_option_position_values_and_id_are_filled_from_the_variants():
    data = compiled_input.accept_function(ShopifyProductSerializer)(legacy_product(), compiled_input.Cache())
    assert [(o["id"], o["name"], o["position"], o["values"]) for o in data["options"]] == [
        (11, "Size", 1, ["S", "M", "L"]),
        (12, "Colour", 2, ["Red"]),
    ]


def test_an_option_id_is_derived_the_same_way_by_the_serializer_and_stays_stable():
    serializer = ShopifyProductSerializer(data=storefront_product())
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["options"][0]["id"] == sync_validation.option_id_for(1, 1) == 11
    assert sync_validation.option_id_for(2**63 - 1, 2) == 2  # too large to multiply: the position


def test_more_options_than_free_positions_is_refused_with_the_options_error():
    serializer = ShopifyProductSerializer(data=PRODUCTS["options_four_without_positions"])
    assert not serializer.is_valid() and "options" in serializer.errors


# ---- the compiler itself ----------------------------------------------------------------------------------


class WeighedVariantSerializer(ShopifyVariantSerializer):
    weight_grams = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


class WeighedProductSerializer(ShopifyProductSerializer):
    variants = WeighedVariantSerializer(many=True, required=False, max_length=2000)


@pytest.mark.parametrize(
    ("weight", "taken"),
    [(250, 250), (0, 0), ("250", 250), (250.0, 250), (-1, None), (1_000_001, None), ("heavy", None), (True, None)],
)
def test_a_field_declared_on_a_serializer_subclass_is_checked_with_no_other_code(weight, taken):
    item = with_variant(weight_grams=weight)
    accepted, expected = drf(WeighedProductSerializer, item)
    assert compiled(WeighedProductSerializer, copy.deepcopy(item)) == ((True, expected) if accepted else (False, None))
    if taken is None:
        assert not accepted
        valid, rejected = validate_each(WeighedProductSerializer, [copy.deepcopy(item)])
        assert not valid and list(rejected[0]["errors"]) == ["variants.0.weight_grams"]
    else:
        assert accepted and expected["variants"][0]["weight_grams"] == ("int", taken)
    assert compiled_input.drf_fields(WeighedProductSerializer) == []  # and it has a compiled checker


def test_a_variant_without_the_new_field_is_taken_as_before():
    item = shopify_product(1)
    accepted, expected = drf(WeighedProductSerializer, item)
    assert accepted and "weight_grams" not in expected["variants"][0]
    assert compiled(WeighedProductSerializer, copy.deepcopy(item)) == (True, expected)


def starts_with_a(value):
    if not str(value).startswith("a"):
        raise serializers.ValidationError("Must start with a.")


class PaddedCharField(serializers.CharField):
    def to_internal_value(self, data):
        return "<" + super().to_internal_value(data) + ">"


class ValidatedSerializer(serializers.Serializer):
    """Fields and logic the compiler does not know, and the serializer's own validate_<field>/validate()."""

    name = serializers.CharField(max_length=10, validators=[starts_with_a])
    padded = PaddedCharField(required=False)
    slug = serializers.SlugField(required=False)
    count = serializers.IntegerField(required=False, validators=[lambda v: None])
    even = serializers.IntegerField(required=False)
    total = serializers.IntegerField(required=False, source="sums.total")

    def validate_even(self, value):
        if value % 2:
            raise serializers.ValidationError("Must be even.")
        return value // 2

    def validate(self, attrs):
        if attrs.get("name") == "abort":
            raise serializers.ValidationError("No abort.")
        return attrs


VALIDATED = {
    "plain": {"name": "abc"},
    "validator_refuses": {"name": "bcd"},
    "validate_refuses": {"name": "abort"},
    "custom_field": {"name": "abc", "padded": " x "},
    "custom_field_refuses": {"name": "abc", "padded": []},
    "slug": {"name": "abc", "slug": "a-b"},
    "slug_refused": {"name": "abc", "slug": "a b"},
    "unknown_validator": {"name": "abc", "count": 3},
    "validate_field": {"name": "abc", "even": 4},
    "validate_field_refuses": {"name": "abc", "even": 3},
    "dotted_source": {"name": "abc", "total": 7},
    "name_missing": {"even": 2},
}


@pytest.mark.parametrize("case", sorted(VALIDATED))
def test_what_the_compiler_does_not_know_is_left_to_drf_and_custom_logic_runs(case):
    item = VALIDATED[case]
    accepted, expected = drf(ValidatedSerializer, item)
    assert compiled(ValidatedSerializer, copy.deepcopy(item)) == ((True, expected) if accepted else (False, None))


def test_the_fields_left_to_drf_are_named():
    assert compiled_input.drf_fields(ValidatedSerializer) == ["name", "padded", "slug", "count"]


class ShoutingSerializer(serializers.Serializer):
    name = serializers.CharField()

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return {"name": value["name"].upper()}


class ShoutingParentSerializer(serializers.Serializer):
    child = ShoutingSerializer()


def test_a_serializer_that_walks_its_fields_its_own_way_is_left_to_drf():
    assert compiled_input.accept_function(ShoutingSerializer) is None
    assert validate_each(ShoutingSerializer, [{"name": "x"}, {}]) == (
        [(0, {"name": "X"})],
        [{"index": 1, "id": None, "errors": {"name": ["This field is required."]}}],
    )
    assert compiled(ShoutingParentSerializer, {"child": {"name": "x"}}) == (True, {"child": {"name": ("str", "X")}})
    assert compiled_input.drf_fields(ShoutingParentSerializer) == ["child"]


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField()

    def validate(self, attrs):
        return {**attrs, "keys": sorted(self.initial_data)}


def test_a_serializer_reading_its_raw_body_is_left_to_drf():
    assert compiled_input.accept_function(EchoSerializer) is None
    assert validate_each(EchoSerializer, [{"name": "x", "other": 1}]) == (
        [(0, {"name": "x", "keys": ["name", "other"]})],
        [],
    )


class NestedZoo(serializers.Serializer):
    n = serializers.IntegerField()


class FieldZooSerializer(serializers.Serializer):
    """One field per type and option the compiler knows: every value below runs through each."""

    char = serializers.CharField(required=False, max_length=5)
    char_blank_null = serializers.CharField(required=False, allow_blank=True, allow_null=True, min_length=2)
    char_untrimmed = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)
    strict_char = StrictCharField(required=False, max_length=5)
    url = serializers.URLField(required=False)
    strict_url = StrictURLField(required=False, allow_null=True, max_length=40)
    integer = serializers.IntegerField(required=False)
    integer_bounded = serializers.IntegerField(required=False, min_value=-5, max_value=5, allow_null=True)
    external_id = ExternalIdField(required=False, allow_null=True)
    decimal = serializers.DecimalField(required=False, max_digits=5, decimal_places=2)
    decimal_bounded = serializers.DecimalField(
        required=False, max_digits=4, decimal_places=1, min_value=1, max_value=Decimal("100.5"), allow_null=True
    )
    decimal_whole = serializers.DecimalField(required=False, max_digits=40, decimal_places=0)
    boolean = serializers.BooleanField(required=False)
    strict_boolean = StrictBooleanField(required=False, allow_null=True)
    choice = serializers.ChoiceField(required=False, choices=[1, "a", ("b", "Bee")])
    choice_blank = serializers.ChoiceField(required=False, choices=["x"], allow_blank=True, default="x")
    datetime = serializers.DateTimeField(required=False, allow_null=True)
    json = serializers.JSONField(required=False)
    json_null = serializers.JSONField(required=False, allow_null=True)
    strings = serializers.ListField(child=StrictCharField(allow_blank=True), required=False, max_length=2)
    integers = serializers.ListField(child=serializers.IntegerField(allow_null=True), required=False, allow_empty=False)
    nested = NestedZoo(required=False, allow_null=True)
    nested_many = NestedZoo(many=True, required=False, max_length=2, allow_empty=False)


ZOO_VALUES = [
    None, "", "  ", "a", " ab ", "abcdef", "a\x00", "a\ud800", "für", "0", "5", " 5 ", "-5", "6", "1.0", "1.5",
    "1.05", "1.005", "100.5", "100.50", "1e2", "NaN", "inf", "1_0", "\u0661", "9" * 41, 0, 1, -1, 5, 6, 2**63,
    -(2**63), 1.0, 1.5, 1e-05, 100.5, float("nan"), True, False, "true", "x", "b", "Bee", "2025-03-01",
    "2025-03-01T10:00:00", "2025-03-01T10:00:00+02:00", "2025-13-01T10:00:00Z", "https://cdn.example.com/a.jpg",
    "https://CDN.example.com/a", "http://192.168.0.1/x", "ftp://cdn.example.com/x", "https://" + "a" * 60 + ".com",
    [], [None], ["a"], ["a", "b", "c"], [1, "2"], [1, 2, 3], ["a", 1], {}, {"n": 1}, {"n": "1"}, {"n": None},
    [{"n": 1}], [{"n": 1}, {"n": 2}], [{"n": 1}, 5], [{"n": 1}] * 3, {"a": [1, {"b": None}]}, {1: "a"}, (1, 2),
]  # fmt: skip


@pytest.mark.parametrize("field", sorted(FieldZooSerializer._declared_fields))
def test_every_known_field_type_answers_as_drf_on_every_value(field):
    mismatches = []
    for value in [*ZOO_VALUES, "missing"]:
        item = {} if value == "missing" else {field: copy.deepcopy(value)}
        accepted, expected = drf(FieldZooSerializer, item)
        got = compiled(FieldZooSerializer, copy.deepcopy(item))
        if got != ((True, expected) if accepted else (False, None)):
            mismatches.append((value, got, (accepted, expected)))
    assert not mismatches
    assert compiled_input.drf_fields(FieldZooSerializer) == []
