"""Fixtures of the catalog tests: a read-key client, categories, and a fresh index per test."""

from __future__ import annotations

import pytest

from catalog import index
from catalog.models import Category
from tests.conftest import client_for


@pytest.fixture(autouse=True)
def _fresh_indexes():
    """Indexes live per process; each test starts without any."""
    index._product_indexes.clear()
    index._category_indexes.clear()
    yield
    index._product_indexes.clear()
    index._category_indexes.clear()


@pytest.fixture
def reader(keys_a):
    return client_for(keys_a.read.plaintext)


@pytest.fixture
def sortillus_b(keys_b):
    return client_for(keys_b.write.plaintext)


@pytest.fixture
def platform_b(keys_b):
    return client_for(keys_b.write.plaintext)


def make_category(
    tenant, external_id: int, name: str, parent: Category | None = None, description: str = ""
) -> Category:
    level = parent.level + 1 if parent else 1
    return Category.objects.create(
        tenant=tenant,
        external_id=external_id,
        parent=parent,
        level=level,
        full_external_id=f"L{level}_{external_id}",
        name=name,
        en_name=name,
        en_description=description or f"{name} products",
    )
