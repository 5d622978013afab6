"""Sortillus ``updated_before``: timestamps are shown to the second, so a bound without a fraction is that
whole second (a client paging backwards from a shown ``updated_at`` must find the product again)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.models import Product
from tests import factories

pytestmark = pytest.mark.django_db

STORED = datetime(2025, 9, 15, 10, 20, 30, 456789, tzinfo=UTC)


@pytest.fixture
def product(tenant_a):
    product = factories.product(tenant_a, external_id=7)
    Product.objects.filter(pk=product.pk).update(updated_at=STORED)
    return product


def listed(client, query: str) -> list[int]:
    response = client.get(f"/api/v3/products?{query}")
    assert response.status_code == 200, response.content
    return [p["external_id"] for p in response.json()["products"]]


def test_the_shown_updated_at_is_what_the_list_says(reader, product):
    assert listed(reader, "") == [7]
    assert reader.get("/api/v3/products").json()["products"][0]["updated_at"] == "2025-09-15T10:20:30Z"


@pytest.mark.parametrize(
    ("bound", "included"),
    [
        ("2025-09-15T10:20:30Z", True),  # the shown value itself: on or before it
        ("2025-09-15T10:20:31Z", True),
        ("2025-09-15T10:20:29Z", False),
        ("2025-09-15T12:20:30%2B02:00", True),  # the same second with an offset
        ("2025-09-15T10:20:30.456789Z", True),  # a bound with a fraction is compared as given
        ("2025-09-15T10:20:30.456788Z", False),
    ],
)
def test_updated_before_includes_a_product_updated_within_the_bounds_second(reader, product, bound, included):
    assert listed(reader, f"updated_before={bound}") == ([7] if included else [])


def test_updated_before_never_shows_the_other_tenants_products(reader, tenant_b):
    other = factories.product(tenant_b, external_id=8)
    Product.objects.filter(pk=other.pk).update(updated_at=STORED)
    assert listed(reader, "updated_before=2025-09-15T10:20:30Z") == []
