"""Generated SDKs: a Python client per surface from the served schema (openapi-python-client), driven
against a live demo server: list, detail, a write, an error case and pagination. A failure here is
fixed in the schema, never in generated code. Generation takes about a second per surface."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.contracts.live import DEMO_KEYS

pytest.importorskip("openapi_python_client")

VENV_BIN = str(Path(sys.executable).parent)


@pytest.fixture(scope="module")
def sdk_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("sdk")
    sys.path.insert(0, str(path))
    yield path
    sys.path.remove(str(path))
    for name in list(sys.modules):
        if name.split(".")[0].endswith("_client"):
            del sys.modules[name]


def generate(surface: str, server, sdk_dir: Path):
    """Fetch the served schema, generate ``<surface>_client`` from it and import it."""
    schema = sdk_dir / f"{surface}.json"
    with urllib.request.urlopen(f"{server.url}/api/schema/{surface}/?format=json", timeout=30) as response:  # noqa: S310
        schema.write_bytes(response.read())
    package = f"{surface}_client"
    executable = shutil.which("openapi-python-client", path=VENV_BIN) or "openapi-python-client"
    result = subprocess.run(  # noqa: S603
        [executable, "generate", "--path", str(schema), "--output-path", str(sdk_dir / package), "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"},  # its ruff post-hooks
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    module = importlib.import_module(package)
    return module, lambda key: module.AuthenticatedClient(base_url=server.url, token=DEMO_KEYS[key])


def test_pricing_client(live_demo_server, sdk_dir):
    _, client = generate("pricing", live_demo_server, sdk_dir)
    models = importlib.import_module("pricing_client.models")
    from pricing_client.api.products import pricing_products_list, pricing_products_retrieve, pricing_products_update

    reader, writer = client("read"), client("write")
    first = pricing_products_list.sync(client=reader, page=1, limit=2)
    second = pricing_products_list.sync(client=reader, page=2, limit=2)
    assert isinstance(first, models.ProductListResponse) and isinstance(second, models.ProductListResponse)
    assert (first.pagination.page, first.pagination.limit, second.pagination.page) == (1, 2, 2)
    assert first.pagination.total == second.pagination.total >= 4
    ids = [p.id for p in first.data] + [p.id for p in second.data]
    assert ids == sorted(ids) and len(set(ids)) == 4

    detail = pricing_products_retrieve.sync(product_id=ids[0], client=reader)
    assert isinstance(detail, models.ProductResponse) and detail.data.id == ids[0]

    body = models.ProductUpdateRequest(min_price="1.00", auto_reprice=False)
    updated = pricing_products_update.sync(product_id=ids[0], client=writer, body=body)
    assert isinstance(updated, models.ProductUpdateResponse) and updated.data.min_price == "1.00"

    missing = pricing_products_retrieve.sync_detailed(product_id=999_999_999, client=reader)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.ShopiSyncError) and missing.parsed.code == "NOT_FOUND"
    refused = pricing_products_update.sync(product_id=ids[0], client=reader, body=body)
    assert isinstance(refused, models.ShopiSyncError) and refused.code == "INSUFFICIENT_PERMISSIONS"


def test_catalog_client(live_demo_server, sdk_dir):
    _, client = generate("catalog", live_demo_server, sdk_dir)
    models = importlib.import_module("catalog_client.models")
    from catalog_client.api.products import products_create, products_list, products_retrieve, products_update

    reader, writer = client("read"), client("write")
    first = products_list.sync(client=reader, page=1, per_page=2)
    second = products_list.sync(client=reader, page=2, per_page=2)
    assert isinstance(first, models.ProductListOutput) and isinstance(second, models.ProductListOutput)
    assert (first.meta.current_page, second.meta.current_page) == (1, 2)
    ids = [p.external_id for p in first.products] + [p.external_id for p in second.products]
    assert len(set(ids)) == 4

    detail = products_retrieve.sync(id=ids[0], client=reader)
    assert isinstance(detail, models.ProductOutput) and detail.external_id == ids[0]

    update = models.PatchedProductUpdateBodyRequest(product=models.ProductUpdateInputRequest(name="Renamed by the SDK"))
    updated = products_update.sync(id=ids[0], client=writer, body=update)
    assert isinstance(updated, models.ProductOutput) and updated.name == "Renamed by the SDK"

    create = models.ProductCreateBodyRequest(
        product=models.ProductCreateInputRequest(id=77_000_001, name="From the SDK")
    )
    created = products_create.sync(client=writer, body=create)
    assert isinstance(created, models.ProductOutput) and created.external_id == 77_000_001
    assert created.state == "new"

    missing = products_retrieve.sync_detailed(id=999_999_999, client=reader)
    assert missing.status_code == 404 and isinstance(missing.parsed, models.SortillusError)


def test_merchandising_client(live_demo_server, sdk_dir):
    _, client = generate("merchandising", live_demo_server, sdk_dir)
    m = importlib.import_module("merchandising_client.models")
    from merchandising_client.api.dynasort import dynasort_action

    connector = client("connector")

    def run(body):
        return dynasort_action.sync(client=connector, body=body)

    first = run(m.ListCollectionsActionRequest(action=m.ListCollectionsActionActionEnum.LIST_COLLECTIONS, limit=1))
    assert isinstance(first, m.DynasortResult) and len(first.data) == 1
    assert isinstance(first.data[0], m.CollectionOut)
    after = first.data[0].id
    second = run(
        m.ListCollectionsActionRequest(
            action=m.ListCollectionsActionActionEnum.LIST_COLLECTIONS, since_id=after, limit=1
        )
    )
    assert isinstance(second, m.DynasortResult) and second.data[0].id > after

    detail = run(
        m.GetCollectionActionRequest(action=m.GetCollectionActionActionEnum.GET_COLLECTION, collection_id=after)
    )
    assert isinstance(detail.data, m.CollectionDetailOut) and detail.data.id == after

    products = run(m.ListProductsActionRequest(action=m.ListProductsActionActionEnum.LIST_PRODUCTS, limit=1))
    assert isinstance(products.data[0], m.ProductOut)
    product_id = products.data[0].product_id
    boosted = run(
        m.SetProductBoostActionRequest(
            action=m.SetProductBoostActionActionEnum.SET_PRODUCT_BOOST, product_id=product_id, boost=7
        )
    )
    assert isinstance(boosted.data, m.BoostOut) and (boosted.data.product_id, boosted.data.boost) == (product_id, 7)

    missing = run(m.GetCollectionActionRequest(action=m.GetCollectionActionActionEnum.GET_COLLECTION, collection_id=1))
    assert isinstance(missing, m.DynasortError) and missing.code == m.CodeEnum.NOT_FOUND and missing.error is True


def test_platform_client(live_demo_server, sdk_dir):
    _, client = generate("platform", live_demo_server, sdk_dir)
    m = importlib.import_module("platform_client.models")
    from platform_client.api.keys import keys_create, keys_list, keys_revoke_create, keys_usage_retrieve

    admin = client("admin")
    created = keys_create.sync(
        client=admin, body=m.ApiKeyCreateInputRequest(name="sdk test", permission=m.PermissionEnum.READ)
    )
    assert isinstance(created, m.IssuedKeyOutput) and created.key.startswith("sk_live_")

    listed = keys_list.sync(client=admin)
    assert isinstance(listed, m.ApiKeyListOutput) and created.id in [k.id for k in listed.keys]

    usage = keys_usage_retrieve.sync(key_id=created.id, client=admin)
    assert isinstance(usage, m.UsageOutput)

    revoked = keys_revoke_create.sync(key_id=created.id, client=admin, body=m.ApiKeyRevokeInputRequest(reason="sdk"))
    assert isinstance(revoked, m.ApiKeyOutput) and revoked.status == "revoked"

    missing = keys_usage_retrieve.sync(key_id=999_999_999, client=admin)
    assert isinstance(missing, m.ShopiSyncError) and missing.code == "NOT_FOUND"
    refused = keys_list.sync(client=client("read"))
    assert isinstance(refused, m.ShopiSyncError) and refused.code == "INSUFFICIENT_PERMISSIONS"
