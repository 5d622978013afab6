"""The lean sync validator (catalog/sync_validation.py) accepts only what the DRF serializers accept, as they would.

Every case runs through both: when the lean one vouches for an item, the serializer must accept it with the same
validated data (values and types, Decimal exponents included); when it is unsure, validate_each must answer
exactly as the serializer alone does.
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from catalog import sync_validation
from catalog.api.platform_serializers import ShopifyOrderSerializer, ShopifyProductSerializer, validate_each
from tests.catalog.test_platform_sync import shopify_product


def plain(value):
    """Validated data as comparable plain values; a Decimal keeps its exponent ("49.9" is not "49.90")."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if hasattr(value, "isoformat"):
        return ("datetime", value.isoformat(), str(value.tzinfo))
    return value


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

# The shapes a Shopify sync job sends: the lean path must take them (else it is no fast path).
LEAN_TAKES = {
    "full", "minimal", "string_id", "title_padded", "title_unicode", "body_null", "status_draft", "storefront",
    "legacy", "image_query",
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(PRODUCTS))
def test_lean_product_check_accepts_only_as_the_serializer_does(case):
    item = PRODUCTS[case]
    accepted, expected = drf(ShopifyProductSerializer, item)
    try:
        lean = sync_validation.product(copy.deepcopy(item), sync_validation.Cache())
    except sync_validation.Unsure:
        assert case not in LEAN_TAKES
        return
    assert accepted, expected
    assert plain(lean) == expected


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

    plain_match = sync_validation._PLAIN_URL.fullmatch(url)
    if plain_match is None or len(plain_match[1]) > 253:
        return
    try:
        URLValidator()(url)
    except ValidationError:
        pytest.fail(f"the fast path accepts {url!r}, URLValidator refuses it")


@pytest.mark.parametrize("case", sorted(ORDERS))
def test_lean_order_check_accepts_only_as_the_serializer_does(case):
    item = ORDERS[case]
    accepted, expected = drf(ShopifyOrderSerializer, item)
    try:
        lean = sync_validation.order(copy.deepcopy(item), sync_validation.Cache())
    except sync_validation.Unsure:
        assert case not in {"full", "discount_missing", "variant_missing", "cancelled", "empty_lines"}
        return
    assert accepted, expected
    assert plain(lean) == expected


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
    data = sync_validation.product(legacy_product(), sync_validation.Cache())
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
