"""The merchandising admin: sort runs are read-only records with names a person recognises."""

from __future__ import annotations

import pytest

from merchandising.models import SortRun
from tests import factories
from tests.merchandising.conftest import make_collection

pytestmark = pytest.mark.django_db


def test_sort_runs_are_viewable_never_added_changed_or_deleted(admin_client, tenant_a):
    collection = make_collection(tenant_a, [factories.product(tenant_a)])
    collection.title = "Summer"
    collection.save(update_fields=["title"])
    run = SortRun.objects.create(
        tenant=tenant_a,
        collection=collection,
        collection_external_id=collection.external_id,
        kind="recipe",
        method="Best sellers",
        status="done",
    )
    assert admin_client.get("/admin/merchandising/sortrun/add/").status_code == 403
    assert admin_client.get(f"/admin/merchandising/sortrun/{run.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/merchandising/sortrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SortRun.objects.filter(pk=run.pk).exists()
    assert str(run).startswith("recipe of Summer at ")
    assert "Summer" in admin_client.get("/admin/merchandising/sortrun/").content.decode()
