"""The demo catalog: realistic, deterministic and safe to seed twice."""

from __future__ import annotations

import io

import pytest

from catalog import demo, recommendation_selectors
from catalog.models import (
    AttributeOption,
    Category,
    CategoryAttribute,
    DailySales,
    DuplicateCluster,
    Order,
    Product,
    ProductGtin,
    Variant,
)

pytestmark = pytest.mark.django_db

MODELS = (Category, CategoryAttribute, AttributeOption, Product, Variant, ProductGtin, Order, DuplicateCluster)


def counts(tenant):
    return {m.__name__: m.objects.filter(tenant=tenant).count() for m in MODELS}


def test_seed_builds_a_real_catalog_and_is_idempotent(tenant_a):
    demo.seed(tenant=tenant_a, products=60, seed=42, stdout=io.StringIO())
    first = counts(tenant_a)
    assert first["Product"] == 60 and first["Variant"] > 60 and first["Order"] == 180
    assert first["DuplicateCluster"] >= 1 and first["CategoryAttribute"] >= 4
    assert DailySales.objects.filter(tenant=tenant_a).exists()
    assert not Product.objects.filter(tenant=tenant_a, category__isnull=True).exists()
    demo.seed(tenant=tenant_a, products=60, seed=42, stdout=io.StringIO())
    assert counts(tenant_a) == first


def test_demo_products_get_same_model_and_bundle_recommendations(tenant_a):
    demo.seed(tenant=tenant_a, products=120, seed=42, stdout=io.StringIO())
    kinds = set()
    for product in Product.objects.filter(tenant=tenant_a).order_by("external_id")[:30]:
        kinds |= {c.kind for c in recommendation_selectors.compute(tenant_a, product)}
    assert {"same_model", "similar", "complementary"} <= kinds
