"""A hostile-value corpus applied to every field of every body and every query parameter of every surface.

The operations, their query parameters and their body fields come from the OpenAPI documents
(drf-spectacular, one per surface) and the Dynasort action registry (``merchandising.actions.ACTIONS``); the
items of the platform sync lists, which the schema leaves free-form because each is validated on its own,
come from the item serializers the views validate them with. Each operation starts from a valid request on a
populated shop (``VALID``; an operation without one fails the suite), and each field in turn is replaced by
each hostile value: NUL, lone surrogates, control and bidi characters, over-long strings, non-finite and
overflowing number literals, 2**63 and other integers beyond 64 bits, every wrong JSON type; and every object
gains unknown keys (themselves hostile). No answer may be a 5xx, every 4xx is in the surface's error form, and
every answer is JSON a strict parser reads.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from apikeys.services import api_key_create
from apikeys.tokens import KeyKind
from catalog.api.platform_serializers import ShopifyOrderSerializer, ShopifyProductSerializer
from config.celery import app as celery_app
from config.urls import SURFACE_PATTERNS
from merchandising.actions import ACTIONS
from merchandising.api.serializers import CollectionSyncItem
from pricing.api.serializers import ObservationSerializer
from tenants.models import Tenant
from tenants.services import tenant_create
from tests.conftest import Keys, client_for
from tests.reliability.conftest import World, build_world
from tests.reliability.test_bad_input import assert_surface_error

pytestmark = pytest.mark.django_db


class Raw(str):
    """A number literal written into the JSON text as it is (json.dumps cannot write 1e999)."""


LONG = "x" * 70_000  # beyond every max_length but body_html's 200,000 (which a 1 MiB body cannot pass anyway)
# (name, value): every value goes into every field
VALUES: list[tuple[str, Any]] = [
    ("nul", "a\x00b"),
    ("lone_surrogate", "\ud800"),
    ("control_and_bidi", "\x01\x1b[31m\x7f\u202e\u2028\ufeff\udfff"),
    ("long_string", LONG),
    ("empty_string", ""),
    ("numeric_string", "9223372036854775808"),
    ("overflow_literal", Raw("-1e999")),
    ("underflow_literal", Raw("1e-999")),
    ("long_fraction", Raw("0." + "1" * 5000)),
    ("2**63", 2**63),
    ("2**63-1", 2**63 - 1),
    ("-2**63-1", -(2**63) - 1),
    ("10**300", 10**300),
    ("negative", -1),
    ("fraction", 1.5),
    ("true", True),
    ("null", None),
    ("empty_list", []),
    ("object", {"$gt": 0, "\ud800": "\x00"}),
]
UNKNOWN_KEYS = ["\ud800\x00", "k" * 10_000]

# Query parameter values (a URL carries text only: the wrong "types" are spellings)
QUERY_VALUES = [
    "a%00b",
    "%ED%A0%80",  # a surrogate as UTF-8 bytes (invalid UTF-8)
    "%FF%FE%1B%5B31m",
    quote(LONG[:5000]),
    "9223372036854775808",
    "-9223372036854775809",
    "1e999",
    "NaN",
    "-1",
    "1.5",
    "%5B%5D",
    "",
]

SHOPIFY_CONNECTION = "/api/platform/v1/shopify/connection"
NEW_ID = itertools.count(9_100_000_001)


# ---- the operations, from the schema and the action registry -----------------------------------------------


def _schemas() -> dict[str, dict]:
    return {s: SchemaGenerator(patterns=p).get_schema(request=None, public=True) for s, p in SURFACE_PATTERNS.items()}


SCHEMAS = _schemas()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def operations() -> list[tuple[str, str, str, dict]]:
    """(surface, method, path template, operation) of every documented operation."""
    out = []
    for surface, schema in SCHEMAS.items():
        for path, item in schema["paths"].items():
            for method, operation in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    out.append((surface, method, path, operation))
    return out


def _serializer_schema(serializer: serializers.Serializer) -> dict:
    """A JSON-schema-like tree of a DRF serializer (for the sync items the OpenAPI document leaves free-form)."""
    properties = {}
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            properties[name] = {"type": "array", "items": _serializer_schema(field.child)}
        elif isinstance(field, serializers.Serializer):
            properties[name] = _serializer_schema(field)
        elif isinstance(field, serializers.ListField) and isinstance(field.child, serializers.Serializer):
            properties[name] = {"type": "array", "items": _serializer_schema(field.child)}
        else:
            properties[name] = {}
    return {"type": "object", "properties": properties}


# The items of these lists are validated one by one by the serializer named here (see each view).
FREE_FORM_ITEMS = {
    ("platform_products_sync", "products"): ShopifyProductSerializer,
    ("platform_orders_sync", "orders"): ShopifyOrderSerializer,
    ("collections_sync", "collections"): CollectionSyncItem,
    ("competitor_prices_create", "observations"): ObservationSerializer,
}


def body_schema(surface: str, operation: dict, action: str | None) -> dict | None:
    schema = SCHEMAS[surface]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    node = _resolve(schema, content["schema"])
    if action is not None:  # the Dynasort body: one variant per action, by its discriminator
        node = _resolve(schema, {"$ref": node["discriminator"]["mapping"][action]})
    node = _inline(schema, node)
    for (operation_id, key), serializer in FREE_FORM_ITEMS.items():
        if operation["operationId"] == operation_id:
            node["properties"][key] = {"type": "array", "items": _serializer_schema(serializer())}
    return node


def _inline(schema: dict, node: dict) -> dict:
    node = _resolve(schema, node)
    if "allOf" in node:
        merged: dict = {"type": "object", "properties": {}}
        for part in node["allOf"]:
            merged["properties"].update(_inline(schema, part).get("properties", {}))
        return merged
    out = dict(node)
    if "properties" in node:
        out["properties"] = {k: _inline(schema, v) for k, v in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        out["items"] = _inline(schema, node["items"])
    return out


def field_paths(node: dict, prefix: tuple = ()) -> Iterator[tuple]:
    """Every field of a body (nested objects and the first item of lists included), as key paths."""
    for key, sub in (node.get("properties") or {}).items():
        path = (*prefix, key)
        yield path
        if sub.get("properties"):
            yield from field_paths(sub, path)
        elif sub.get("type") == "array" and isinstance(sub.get("items"), dict) and sub["items"].get("properties"):
            yield from field_paths(sub["items"], (*path, 0))


def object_paths(node: dict, prefix: tuple = ()) -> Iterator[tuple]:
    """Every object of a body (where an unknown key can go)."""
    yield prefix
    for key, sub in (node.get("properties") or {}).items():
        if sub.get("properties"):
            yield from object_paths(sub, (*prefix, key))
        elif sub.get("type") == "array" and isinstance(sub.get("items"), dict) and sub["items"].get("properties"):
            yield from object_paths(sub["items"], (*prefix, key, 0))


# ---- valid requests on the populated shop ------------------------------------------------------------------


def _product_item(w: World) -> dict:
    return {
        "id": w.product,
        "title": "Lantern",
        "body_html": "<p>Lamp</p>",
        "vendor": "Works",
        "product_type": "Lamps",
        "handle": "lantern",
        "status": "active",
        "tags": "a, b",
        "created_at": "2026-11-01T10:00:00Z",
        "image": {"src": "https://cdn.example/l.png"},
        "options": [{"id": w.option, "name": "Color", "position": 1, "values": ["Red", "Blue"]}],
        "variants": [
            {
                "id": w.variant,
                "title": "Red",
                "option1": "Red",
                "option2": None,
                "option3": None,
                "price": "40.00",
                "compare_at_price": "45.00",
                "cost": "10.00",
                "sku": "SKU-1",
                "barcode": w.barcode,
                "inventory_quantity": 5,
                "inventory_policy": "deny",
                "inventory_management": "shopify",
                "created_at": "2026-11-01T10:00:00Z",
            }
        ],
    }


def _sortillus_product(w: World) -> dict:
    return {
        "name": "Lantern",
        "description": "A lamp",
        "image": "https://cdn.example/l.png",
        "suggested_category_name": "Lamps",
        "brand": "Works",
        "active": True,
        "gtin": "5901234123457",
        "gtins": ["5901234123457"],
    }


def valid_requests(w: World) -> dict[str, dict]:
    """operationId (or Dynasort action) -> path parameters, query and body of a request that succeeds."""
    ids = {123456789: w.collection, 987654321: w.collection, 111: w.option, 1: w.recipe_pk}
    out: dict[str, dict] = {}
    for name, action in ACTIONS.items():
        body = copy.deepcopy(action.example_body)
        for key in ("collection_id", "metrics_id"):
            if key in body:
                body[key] = ids[body[key]]
        if "collection_ids" in body:
            body["collection_ids"] = [w.collection]
        if "product_id" in body:
            body["product_id"] = w.product
        for option in body.get("options", []):
            option["option_id"] = w.option
        if name in ("list_collections", "list_products"):
            body.update(since_id=0, limit=10)
        if name == "get_collection":
            body.update(offset=0, limit=10)
        out[name] = {"body": body}
    observation = {
        "product_id": w.product,
        "competitor": "Rival",
        "url": "https://rival.example/p",
        "price": "39.00",
        "in_stock": True,
        "observed_at": "2026-11-22T10:00:00Z",
    }
    order = {
        "id": w.order,
        "created_at": "2026-11-20T10:00:00Z",
        "cancelled_at": None,
        "line_items": [
            {"product_id": w.product, "variant_id": w.variant, "quantity": 1, "price": "40.00", "total_discount": "0"}
        ],
    }
    product_query = {"page": "1", "per_page": "10", "aasm_states": "new,ready", "updated_after": "2026-01-01T00:00:00Z"}
    product_query["updated_before"] = "2030-01-01T00:00:00Z"
    category_query = {"page": "1", "per_page": "10", "level": "1", "parent_external_id": str(w.category)}
    category_query.update(search="Light", with_attributes="true")
    out.update(
        {
            "products_list": {"query": product_query},
            "products_create": {"body": {"product": {"id": "NEW", **_sortillus_product(w)}}},
            "products_retrieve": {"path": {"id": w.product}},
            "products_update": {
                "path": {"id": w.product},
                "body": {"product": {**_sortillus_product(w), "category_id": str(w.category), "canonical": False}},
            },
            "products_recommend": {"path": {"id": w.product_pk}},
            "shop_categories_list": {"query": category_query},
            "shop_categories_upsert": {
                "body": {
                    "category": {
                        "external_id": w.category,
                        "name": "Lighting",
                        "en_name": "Lighting",
                        "en_description": "Lamps",
                        "description": "Lamps",
                        "external_parent_id": None,
                    }
                }
            },
            "competitors_list": {"query": {"page": "1", "limit": "10"}},
            "price_history_list": {
                "path": {"product_id": w.product},
                "query": {"days": "30", "page": "1", "limit": "10"},
            },
            "pricing_products_list": {"query": {"active": "true", "page": "1", "limit": "10"}},
            "pricing_products_retrieve": {"path": {"product_id": w.product}},
            "pricing_products_update": {
                "path": {"product_id": w.product},
                "body": {"minPrice": "30.00", "maxPrice": "50.00", "costPrice": "10.00", "autoReprice": False},
            },
            "stats": {},
            "webhooks_test": {"body": {"event": "price.changed", "data": {"productId": w.product, "price": 1.5}}},
            "collections_sync": {
                "body": {
                    "collections": [
                        {
                            "id": w.collection,
                            "title": "Picks",
                            "handle": "picks",
                            "sort_order": "manual",
                            "product_ids": [w.product],
                        }
                    ]
                }
            },
            "competitor_prices_create": {"body": {"observations": [observation]}},
            "connector_prompt": {},
            "keys_list": {},
            "keys_create": {
                "body": {
                    "name": "corpus",
                    "permission": "read",
                    "kind": "standard",
                    "allowed_ips": ["10.0.0.0/8"],
                    "expires_at": None,
                    "rate_limit": 100,
                    "rate_limit_window": 60,
                }
            },
            "keys_revoke_create": {"path": {"key_id": "KEY"}, "body": {"reason": "corpus"}},
            "keys_rotate_create": {"path": {"key_id": "KEY"}, "body": {"grace_seconds": 0}},
            "keys_usage_retrieve": {"path": {"key_id": w.key_pk}},
            "platform_orders_sync": {"body": {"orders": [order]}},
            "shopify_connection_get": {},
            "shopify_connection_set": {
                "body": {
                    "shop_domain": "corpus.myshopify.com",
                    "webhook_secret": "corpus-secret",
                    "keep_previous_secret": True,
                }
            },
            "shopify_connection_delete": {},
            "shopify_connection_rotation_end": {},
            "platform_products_sync": {"body": {"products": [_product_item(w)]}},
            "product_category_suggestions": {"path": {"id": w.product}},
            "category_suggestions_refresh": {},
            "connector_tools": {"query": {"format": "anthropic"}},
        }
    )
    return out


# ---- sending -----------------------------------------------------------------------------------------------


def _encode(body: Any) -> bytes:
    raws: dict[str, str] = {}

    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            token = f"__raw_{len(raws)}__"
            raws[f'"{token}"'] = str(value)
            return token
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(body))  # ensure_ascii: lone surrogates and NUL travel as \ud800 and \u0000
    for token, literal in raws.items():
        text = text.replace(token, literal)
    return text.encode()


def _set(body: Any, path: tuple, value: Any) -> None:
    """Put ``value`` at ``path``, creating the objects and one-item lists on the way (a field the valid request
    leaves out is tried too)."""
    for key, following in itertools.pairwise(path):
        if isinstance(key, int):
            body = body[key]
            continue
        if not isinstance(body.get(key), dict | list):
            body[key] = [] if isinstance(following, int) else {}
        if isinstance(following, int) and not body[key]:
            body[key].append({})
        body = body[key]
    body[path[-1]] = value


def _at(body: Any, path: tuple) -> Any:
    for key in path:
        body = body[key]
    return body


def _fresh(value: Any, shop: dict) -> Any:
    """A placeholder of a valid request made concrete for one request: "NEW" a new product id, "KEY" the id of a
    new key (so a rotation or revocation has something to act on every time)."""
    if isinstance(value, str) and value == "NEW":
        return next(NEW_ID)
    if isinstance(value, str) and value == "KEY":
        return shop["new_key"]()
    if isinstance(value, dict):
        return {k: _fresh(v, shop) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v, shop) for v in value]
    return value


def _parses_strictly(content: bytes) -> None:
    def refuse(name: str) -> None:
        raise AssertionError(f"answer holds {name}")

    json.loads(content.decode("utf-8"), parse_constant=refuse)


def _check(surface: str, response, label: str, failures: list[str]) -> None:
    status = response.status_code
    if status >= 500 or status == 429:
        failures.append(f"{label}: {status} {response.content[:200]!r}")
        return
    try:
        if response.content:
            _parses_strictly(response.content)
        if status >= 400:
            assert_surface_error(surface, response)
    except (AssertionError, ValueError) as exc:
        failures.append(f"{label}: {status} {exc!s:.200}")


CASES = []
for _surface, _method, _path, _operation in operations():
    if _operation["operationId"] == "dynasort_action":
        CASES += [pytest.param(_surface, _method, _path, _operation, a, id=f"dynasort-{a}") for a in ACTIONS]
    else:
        CASES.append(pytest.param(_surface, _method, _path, _operation, None, id=_operation["operationId"]))


@pytest.fixture(scope="module")
def corpus_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """One populated shop for the whole module (built once, deleted at the end): each test's own writes are
    rolled back with its transaction, so every operation starts from the same shop."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    with django_db_blocker.unblock():
        tenant = tenant_create(domain="corpus.myshopify.com", name="Corpus", plan="enterprise")
        try:
            keys = Keys(
                read=api_key_create(tenant=tenant, name="read", permission="read"),
                write=api_key_create(tenant=tenant, name="write", permission="write"),
                admin=api_key_create(tenant=tenant, name="admin", permission="admin"),
                connector=api_key_create(tenant=tenant, name="connector", permission="write", kind=KeyKind.CONNECTOR),
            )
            world = build_world(keys, 7_301_000_001, "Alphazed", "4006381333931")
            # revert_collection needs a revert order to revert to
            body = {"action": "update_collection", "collection_id": world.collection, "metrics_id": world.recipe_pk}
            body["revert_sorting"] = "best-selling"
            response = client_for(keys.connector.plaintext).post("/api/v1/", body, format="json")
            assert response.status_code == 200, response.content
            connect = {"shop_domain": "corpus.myshopify.com", "webhook_secret": "corpus-secret"}
            response = client_for(keys.admin.plaintext).put(SHOPIFY_CONNECTION, connect, format="json")
            assert response.status_code == 200, response.content
            ApiKey.objects.filter(tenant=tenant).update(rate_limit=10**9)
            yield world
        finally:
            celery_app.conf.task_always_eager = saved
            Tenant.objects.filter(pk=tenant.pk).delete()


@pytest.fixture
def shop(corpus_world: World, settings, db):
    settings.MERCHANDISING_RATE_LIMIT = (10**9, 60)
    tenant = corpus_world.keys.admin.key.tenant
    clients = {}
    for name, issued in (("connector", corpus_world.keys.connector), ("admin", corpus_world.keys.admin)):
        clients[name] = APIClient(raise_request_exception=False)
        clients[name].credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return {
        "world": corpus_world,
        "valid": valid_requests(corpus_world),
        "clients": clients,
        "new_key": lambda: api_key_create(tenant=tenant, name="spare", permission="read").key.pk,
    }


def _send(shop: dict, surface: str, method: str, template: str, request: dict, query: str | None = None):
    client = shop["clients"]["connector" if surface == "merchandising" else "admin"]
    path = template
    for name, value in _fresh(request.get("path", {}), shop).items():
        path = path.replace("{" + name + "}", str(value))
    if query is None:
        query = "&".join(f"{k}={quote(str(v))}" for k, v in request.get("query", {}).items())
    url = f"{path}?{query}" if query else path
    if "body" not in request:
        return getattr(client, method)(url)
    body = _encode(_fresh(request["body"], shop))
    return client.generic(method.upper(), url, body, content_type="application/json")


@pytest.mark.parametrize(("surface", "method", "template", "operation", "action"), CASES)
def test_hostile_values_in_every_field_never_answer_5xx(shop, surface, method, template, operation, action):
    key = action or operation["operationId"]
    assert key in shop["valid"], f"no valid request for {key}: add one to valid_requests"
    valid = shop["valid"][key]
    failures: list[str] = []

    baseline = _send(shop, surface, method, template, valid)
    assert baseline.status_code < 300, (key, baseline.status_code, baseline.content[:500])

    tried = 0
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        for value in QUERY_VALUES:
            query = dict(valid.get("query", {}))
            query.pop(parameter["name"], None)
            parts = [f"{k}={quote(str(v))}" for k, v in query.items()] + [f"{parameter['name']}={value}"]
            response = _send(shop, surface, method, template, valid, "&".join(parts))
            _check(surface, response, f"?{parameter['name']}={value[:30]}", failures)
            tried += 1

    node = body_schema(surface, operation, action)
    if node is not None:
        base = {k: v for k, v in valid["body"].items() if k != "action"}
        for path in field_paths(node):
            for name, value in VALUES:
                body = copy.deepcopy(base)
                _set(body, path, copy.deepcopy(value))
                if action:
                    body = {"action": action, **body}
                response = _send(shop, surface, method, template, {**valid, "body": body})
                _check(surface, response, f"{'.'.join(map(str, path))}={name}", failures)
                tried += 1
        for path in object_paths(node):
            for unknown in UNKNOWN_KEYS:
                body = copy.deepcopy(base)
                try:
                    target = _at(body, path)
                except (KeyError, IndexError, TypeError):
                    continue
                if not isinstance(target, dict):
                    continue
                target[unknown] = "\ud800\x00"
                if action:
                    body = {"action": action, **body}
                response = _send(shop, surface, method, template, {**valid, "body": body})
                _check(surface, response, f"{'.'.join(map(str, path))}[{unknown[:10]!r}]", failures)
                tried += 1
    assert failures == [], f"{len(failures)} of {tried} hostile requests failed:\n" + "\n".join(failures)


def test_every_operation_and_action_has_a_valid_request(shop):
    names = {op["operationId"] for *_, op in operations() if op["operationId"] != "dynasort_action"} | set(ACTIONS)
    assert sorted(names ^ set(shop["valid"])) == []
