"""core.bulk on PostgreSQL: a value longer than its varchar column is refused, never cut to fit."""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction
from django.utils import timezone

from core import bulk
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce varchar lengths")


def row(name: str, domain: str = "long.myshopify.com") -> dict:
    now = timezone.now()
    return {
        "domain": domain,
        "name": name,
        "plan": "enterprise",
        "should_recommend_products": True,
        "created_at": now,
        "updated_at": now,
    }


@pytest.mark.parametrize("write", ["upsert", "insert_new"])
def test_a_value_longer_than_its_column_is_refused_not_cut(write):
    long = "x" * 300  # Tenant.name is varchar(255)
    with pytest.raises(DataError), transaction.atomic():
        if write == "upsert":
            bulk.upsert(Tenant, [row(long)], defaults={}, conflict=("domain",), update=("name",))
        else:
            bulk.insert_new(Tenant, list(row(long)), [tuple(row(long).values())], unique=["domain"], returning=["id"])
    assert not Tenant.objects.filter(domain="long.myshopify.com").exists()


def test_a_value_that_fits_is_stored_exactly():
    exact = "é" * 255
    bulk.upsert(Tenant, [row(exact)], defaults={}, conflict=("domain",), update=("name",))
    assert Tenant.objects.get(domain="long.myshopify.com").name == exact
