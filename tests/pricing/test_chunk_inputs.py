"""A repricing chunk's reads (services._chunk_inputs through core.bulk.rows_where) return what the ORM returns,
and rows_where's statements, written once per shape, never serve another shape."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Variant
from core.bulk import rows_where
from pricing import services
from pricing.models import Competitor, PricingSettings
from tests.pricing.conftest import observe, priced_product

pytestmark = pytest.mark.django_db


def chunk_fixture(tenant, other) -> list[int]:
    """Settings ids of a chunk: auto, not auto, inactive, another tenant's; offers with and without a price."""
    ids = []
    for n, settings in enumerate([{}, {"auto_reprice": False}, {"active": False}, {}]):
        product = priced_product(tenant, price="20.00", extra_prices=("30.00", "31.00"))
        ids.append(
            PricingSettings.objects.create(
                tenant=tenant, product=product, **{"auto_reprice": True, "active": True, **settings}
            ).pk
        )
        observe(tenant, product, "Rival", f"1{n}.00")
        observe(tenant, product, "Other", "19.00", in_stock=False)
        Competitor.objects.create(tenant=tenant, product=product, name="Unpriced")
    foreign = priced_product(other, price="20.00")
    ids.append(PricingSettings.objects.create(tenant=other, product=foreign, auto_reprice=True).pk)
    observe(other, foreign, "Rival", "18.00")
    return ids


def test_a_chunk_reads_what_the_orm_reads(tenant_a, tenant_b):
    ids = chunk_fixture(tenant_a, tenant_b)
    rows, variants, offers = services._chunk_inputs(tenant_a, ids)

    settings = PricingSettings.objects.filter(tenant=tenant_a, pk__in=ids, auto_reprice=True, active=True)
    assert [tuple(r) for r in rows] == list(settings.order_by("id").values_list(*services.SETTINGS_FIELDS))
    assert len(rows) == 2
    product_ids = [r.product_id for r in rows]
    expected_variants: dict[int, list[tuple]] = {}
    for product_id, *variant in (
        Variant.objects.filter(tenant=tenant_a, product_id__in=product_ids)
        .order_by("product_id", "position", "id")
        .values_list("product_id", "id", "price", "cost")
    ):
        expected_variants.setdefault(product_id, []).append(tuple(variant))
    assert dict(variants) == expected_variants
    assert [price for _, price, _ in variants[product_ids[0]]] == [Decimal("20.00"), Decimal("30.00"), Decimal("31.00")]
    expected_offers = {
        (product_id, *offer)
        for product_id, *offer in Competitor.objects.filter(
            tenant=tenant_a, product_id__in=product_ids, current_price__isnull=False
        ).values_list(*services.OFFER_FIELDS)
    }
    assert {(p, *o) for p, found in offers.items() for o in found} == expected_offers
    assert {o.competitor for o in offers[product_ids[0]]} == {"Rival", "Other"}


def test_each_shape_gets_its_own_statement(tenant_a, tenant_b):
    ids = chunk_fixture(tenant_a, tenant_b)
    fields = ("id", "product_id", "auto_reprice", "active")

    def orm(**filters) -> list[tuple]:
        return list(PricingSettings.objects.filter(pk__in=ids, **filters).order_by("id").values_list(*fields))

    def read(where, key_values=ids, **shape) -> list[tuple]:
        return rows_where(PricingSettings, fields, where=where, any_of=("id", key_values), order_by=("id",), **shape)

    with CaptureQueriesContext(connection) as queries:
        # the same shapes twice, interleaved: a statement cached for one shape must not answer another
        for _ in range(2):
            assert read({"tenant_id": tenant_a.pk, "auto_reprice": True}) == orm(tenant=tenant_a, auto_reprice=True)
            assert read({"tenant_id": tenant_a.pk, "auto_reprice": False}) == orm(tenant=tenant_a, auto_reprice=False)
            assert read({"tenant_id": tenant_b.pk, "auto_reprice": True}) == orm(tenant=tenant_b, auto_reprice=True)
            assert read({"tenant_id": tenant_a.pk, "active": True}) == orm(tenant=tenant_a, active=True)
            assert read({"tenant_id": tenant_a.pk}, lock=True) == orm(tenant=tenant_a)
            assert read({"tenant_id": tenant_a.pk}) == orm(tenant=tenant_a)
            # ids past integer: a wider array type, the same rows
            assert read({"tenant_id": tenant_a.pk}, [*ids, 2**40]) == orm(tenant=tenant_a)
            assert read({"tenant_id": tenant_a.pk}, []) == []
    statements = [q["sql"] for q in queries.captured_queries if "auto_reprice" in q["sql"] and "ANY(" in q["sql"]]
    if connection.vendor == "postgresql":
        # per tenant: auto_reprice, NOT auto_reprice, active, lock, no lock, and bigint[] (2**40 and [])
        assert len(set(statements)) == 6
        assert sum(s.endswith("FOR UPDATE") for s in statements) == 2


def test_rows_where_refuses_what_it_cannot_bind(tenant_a):
    with pytest.raises(TypeError):
        rows_where(PricingSettings, ("id",), where={"tenant_id": tenant_a.pk}, any_of=("id", ["1"]))
