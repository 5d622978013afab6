"""Duplicate clusters through the Sortillus API: shared GTINs, canonical and external canonical."""

from __future__ import annotations

import pytest

from catalog.models import DuplicateCluster, Product

pytestmark = pytest.mark.django_db

G1, G2, G3 = "4006381333931", "1234567890128", "9876543210982"


def create(client, pid, **fields):
    body = {"product": {"id": pid, "name": f"Product {pid}", **fields}}
    response = client.post("/api/v3/products", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def canonical_of(client) -> dict[int, int | None]:
    rows = client.get("/api/v3/products").json()["products"]
    return {r["external_id"]: r["external_canonical_id"] for r in rows}


def test_products_sharing_a_gtin_are_one_cluster_with_the_most_complete_canonical(sortillus, tenant_a):
    create(sortillus, 1, gtin=G1)
    create(sortillus, 2, gtins=[G2, G1], description="complete", image="https://x.example/i.jpg", brand="Acme")
    create(sortillus, 3, gtin=G3)
    assert canonical_of(sortillus) == {1: 2, 2: None, 3: None}
    one = sortillus.get("/api/v3/products/1").json()
    assert one["canonical_id"] == Product.objects.get(tenant=tenant_a, external_id=2).pk
    assert sortillus.get("/api/v3/products/2").json()["canonical_id"] is None


def test_gtin_normalisation_matches_12_and_13_digit_forms(sortillus):
    create(sortillus, 1, gtin="036000291452")
    create(sortillus, 2, gtin="0036000291452")
    assert canonical_of(sortillus) == {1: None, 2: 1}


def test_clearing_the_shared_gtin_splits_the_cluster(sortillus, tenant_a):
    create(sortillus, 1, gtin=G1)
    create(sortillus, 2, gtin=G1)
    assert sortillus.patch("/api/v3/products/2", {"gtin": "", "gtins": []}, format="json").status_code == 200
    assert canonical_of(sortillus) == {1: None, 2: None}
    assert not DuplicateCluster.objects.filter(tenant=tenant_a).exists()


def test_canonical_true_makes_the_product_canonical_and_it_sticks(sortillus):
    create(sortillus, 1, gtin=G1)
    create(sortillus, 2, gtin=G1)
    assert canonical_of(sortillus) == {1: None, 2: 1}
    assert sortillus.patch("/api/v3/products/2", {"product": {"canonical": True}}, format="json").status_code == 200
    assert canonical_of(sortillus) == {1: 2, 2: None}
    create(sortillus, 3, gtin=G1, description="more complete", image="https://x.example/i.jpg")
    assert canonical_of(sortillus) == {1: 2, 2: None, 3: 2}


def test_canonical_false_changes_nothing(sortillus):
    create(sortillus, 1, gtin=G1)
    create(sortillus, 2, gtin=G1)
    assert sortillus.patch("/api/v3/products/2", {"canonical": False}, format="json").status_code == 200
    assert canonical_of(sortillus) == {1: None, 2: 1}


def test_external_canonical_product_id_links_and_sets_the_canonical(sortillus):
    create(sortillus, 1)
    create(sortillus, 2)
    response = sortillus.patch("/api/v3/products/2", {"product": {"external_canonical_product_id": "1"}}, format="json")
    assert response.status_code == 200
    assert canonical_of(sortillus) == {1: None, 2: 1}
    assert response.json()["canonical_id"] == sortillus.get("/api/v3/products/1").json()["sortillus_id"]


def test_external_canonical_of_another_tenant_is_not_found(sortillus, sortillus_b):
    create(sortillus, 1)
    create(sortillus_b, 2)
    response = sortillus_b.patch("/api/v3/products/2", {"external_canonical_product_id": "1"}, format="json")
    assert response.status_code == 422 and "external_canonical_product_id" in response.json()["errors"]


def test_same_gtin_in_two_tenants_never_clusters_across_them(sortillus, sortillus_b, tenant_a, tenant_b):
    create(sortillus, 1, gtin=G1)
    create(sortillus_b, 2, gtin=G1)
    assert Product.objects.get(tenant=tenant_a).cluster_id is None
    assert Product.objects.get(tenant=tenant_b).cluster_id is None


def test_gtin14_pack_is_not_merged_with_its_item_but_two_listings_of_the_pack_are(sortillus):
    create(sortillus, 1, gtin="0012345678905")
    create(sortillus, 2, gtin="10012345678902")  # a pack (indicator 1) of item 1
    create(sortillus, 3, gtin="10012345678902")  # the same pack listed again
    assert canonical_of(sortillus) == {1: None, 2: None, 3: 2}
