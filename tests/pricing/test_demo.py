"""The pricing demo seed: a share of the shop's products, idempotent, nothing without products."""

from __future__ import annotations

import io

import pytest

from pricing import demo
from pricing.models import Competitor, Observation, PriceChange, PricingSettings
from tests.pricing.conftest import priced_product

pytestmark = pytest.mark.django_db


def test_seed_prices_a_share_of_the_products_and_is_idempotent(tenant_a):
    for i in range(10):
        priced_product(tenant_a, price=f"{10 + i}.00", cost="5.00")
    demo.seed(tenant=tenant_a, products=10, seed=42, stdout=io.StringIO())
    counts = (PricingSettings.objects.count(), Competitor.objects.count(), Observation.objects.count())
    changes = PriceChange.objects.count()
    assert counts[0] == 6 and counts[1] >= 12 and counts[2] == counts[1] * demo.DAYS
    demo.seed(tenant=tenant_a, products=10, seed=42, stdout=io.StringIO())
    assert (PricingSettings.objects.count(), Competitor.objects.count(), Observation.objects.count()) == counts
    assert PriceChange.objects.count() == changes


def test_seed_without_products_creates_nothing(tenant_a):
    out = io.StringIO()
    demo.seed(tenant=tenant_a, products=0, seed=1, stdout=out)
    assert not Competitor.objects.exists() and "nothing seeded" in out.getvalue()
