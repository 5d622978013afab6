"""GTINs as shops have them: codes kept as sent, UPC-A without its leading zero, packs linked, real codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from catalog import gtin
from catalog.models import Product, ProductGtin

REAL_GTIN = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "realdata" / "gtin"

# ---- the engine (literal cases) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "normalised"),
    [
        ("11110786043", "00011110786043"),  # Kroger UPC-A 011110786043 stored as a number
        ("18065984456", "00018065984456"),  # a real pet-shop barcode (UPC-A 018065984456)
        ("036000291452", "00036000291452"),  # the same kind of code with its zero
    ],
)
def test_an_11_digit_code_valid_once_padded_is_that_gtin_12(code, normalised):
    assert gtin.parse(code).normalised == normalised
    assert gtin.parse(code).length == 12


def test_an_11_digit_code_whose_padded_check_digit_fails_is_no_gtin():
    assert gtin.normalise_or_none("11110786044") is None


@pytest.mark.parametrize(
    ("code", "base"),
    [("10012345678902", "00012345678905"), ("80012345678901", "00012345678905"), ("00012345678905", None)],
)
def test_a_gtin_14_pack_names_its_base_item(code, base):
    assert gtin.parse(code).base_item == base


@pytest.mark.parametrize(
    ("text", "valid", "key"),
    [
        ("1234567890123", False, "1234567890123"),  # the vendor's example: wrong check digit, kept as sent
        ("SKU-778", False, "SKU-778"),
        ("1234567890128", True, "01234567890128"),
        ("11110786043", True, "00011110786043"),
    ],
)
def test_read_keeps_any_code_and_says_whether_it_is_valid(text, valid, key):
    code = gtin.read(text)
    assert (code.text, code.valid, code.key) == (text, valid, key)


# ---- through the Sortillus API ------------------------------------------------------------------


def create(client, pid, **fields):
    response = client.post("/api/v3/products", {"product": {"id": pid, "name": f"P{pid}", **fields}}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_invalid_codes_are_stored_as_sent_and_never_cluster(sortillus, tenant_a):
    create(sortillus, 1, gtin="1234567890123")
    body = create(sortillus, 2, gtin="1234567890123")
    assert body["gtin"] == "1234567890123" and body["gtin_valid"] is False
    assert not Product.objects.filter(tenant=tenant_a, cluster__isnull=False).exists()
    assert set(ProductGtin.objects.filter(tenant=tenant_a).values_list("gtin", "valid")) == {("1234567890123", False)}


@pytest.mark.django_db
def test_upc_a_without_its_leading_zero_clusters_with_the_full_code(sortillus, tenant_a):
    create(sortillus, 1, gtin="11110786043")
    body = create(sortillus, 2, gtin="011110786043")
    assert body["gtin"] == "011110786043" and body["gtin_valid"] is True
    assert body["gtin_details"][0]["normalised"] == "00011110786043"
    one, two = Product.objects.filter(tenant=tenant_a).order_by("external_id")
    assert one.cluster_id is not None and one.cluster_id == two.cluster_id
    assert ProductGtin.objects.get(product=one).code == "11110786043"


@pytest.mark.django_db
def test_a_pack_links_to_its_base_item_without_merging(sortillus, sortillus_b, tenant_a):
    create(sortillus, 1, gtin="0012345678905")
    create(sortillus_b, 1, gtin="0012345678905")  # the other shop's item is never linked
    body = create(sortillus, 2, gtin="10012345678902")
    assert body["gtin_details"] == [
        {
            "code": "10012345678902",
            "valid": True,
            "normalised": "10012345678902",
            "pack_of": "00012345678905",
            "pack_of_product_ids": [1],
        }
    ]
    assert body["canonical_id"] is None
    assert not Product.objects.filter(tenant=tenant_a, cluster__isnull=False).exists()


@pytest.mark.django_db
def test_a_mix_of_valid_and_invalid_codes_clusters_on_the_valid_one_only(sortillus, tenant_a):
    create(sortillus, 1, gtins=["SKU-1", "4006381333931"])
    create(sortillus, 2, gtins=["SKU-1"])
    create(sortillus, 3, gtin="4006381333931")
    rows = dict(Product.objects.filter(tenant=tenant_a).values_list("external_id", "cluster_id"))
    assert rows[1] is not None and rows[1] == rows[3] and rows[2] is None


# ---- real codes (../shared/data/realdata/gtin) ----------------------------------------------------


@pytest.mark.skipif(not REAL_GTIN.exists(), reason="shared real data not present")
def test_real_upc_codes_stored_without_leading_zero_are_recognised_as_the_real_code():
    with (REAL_GTIN / "openfoodfacts_codes.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    # Codes the spreadsheet export left as digits but 11 long: the URL keeps the real code.
    eleven = [r for r in rows if r["code_as_in_csv"].isdigit() and len(r["code_as_in_csv"]) == 11]
    assert len(eleven) >= 100
    recognised = [r for r in eleven if gtin.normalise_or_none(r["code_as_in_csv"]) is not None]
    assert len(recognised) >= 0.95 * len(eleven)
    for r in recognised:
        assert gtin.parse(r["code_as_in_csv"]).normalised == gtin.parse(r["code_from_off_url"]).normalised


@pytest.mark.skipif(not REAL_GTIN.exists(), reason="shared real data not present")
def test_real_shop_barcodes_valid_ones_recognised_internal_codes_kept_as_not_valid():
    barcodes = [b["barcode"] for b in json.loads((REAL_GTIN / "shopify_petshop_barcodes.json").read_text())]
    codes = [gtin.read(b) for b in barcodes]
    assert len(codes) == 69
    assert sum(c.valid for c in codes) == 41  # 39 GTIN-8/13 + the 2 UPC-A stored without their zero
    assert all(c.text == b.strip() for c, b in zip(codes, barcodes, strict=True))
