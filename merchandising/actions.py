"""The Dynasort action registry: every action declared once.

The dispatcher (merchandising.api.views), the OpenAPI request body, the docs page
(``manage.py connector_docs``) and the AI-assistant system prompt
(merchandising.prompt) are all generated from ``ACTIONS``, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

from apikeys.output import render_function
from apikeys.permissions import Permission
from catalog.models import Product
from merchandising import selectors, services
from merchandising.api import results as shapes
from merchandising.api import serializers as s
from merchandising.models import Collection, StoreWriteback
from tenants.models import Tenant

Handler = Callable[[Tenant, dict], Any]


@dataclass(frozen=True)
class Action:
    name: str
    category: str
    description: str
    params: type[serializers.Serializer]
    permission: Permission
    handler: Handler
    example: dict[str, Any] = field(default_factory=dict)  # the doc's example body, without "action"
    notes: str = ""
    # MCP tool hints of a write (never authorization): may it overwrite what the shop had (an order, a
    # value), and does repeating it with the same arguments change nothing more? Reads are neither.
    destructive: bool = True
    idempotent: bool = True

    @property
    def read_only(self) -> bool:
        return self.permission == Permission.READ

    @property
    def title(self) -> str:
        return self.name.replace("_", " ").capitalize()

    @property
    def example_body(self) -> dict[str, Any]:
        return {"action": self.name, **self.example}


# ---- output shapes: rendered from their declarations in merchandising.api.results ------------------------


def collection_out(c: Collection, product_count: int | None = None) -> dict[str, Any]:
    if product_count is not None:
        c.product_count = product_count
    return render_function(shapes.CollectionOut)(c)


recipe_out = render_function(shapes.RecipeOut)
product_out = render_function(shapes.ProductOut)
product_detail_out = render_function(shapes.ProductDetailOut)
collection_detail_out = render_function(shapes.CollectionDetailOut)
collection_disabled_out = render_function(shapes.CollectionDisabledOut)
bulk_toggle_out = render_function(shapes.BulkToggleOut)
bulk_assign_out = render_function(shapes.BulkAssignOut)
reverted_out = render_function(shapes.RevertedOut)
boost_out = render_function(shapes.BoostOut)
product_disabled_out = render_function(shapes.ProductDisabledOut)
product_sort_queued_out = render_function(shapes.ProductSortQueuedOut)


# ---- handlers ---------------------------------------------------------------------------------


def list_collections(tenant: Tenant, p: dict) -> list[dict]:
    return [collection_out(c) for c in selectors.collection_list(tenant=tenant, **p)]


def get_collection(tenant: Tenant, p: dict) -> dict:
    c = selectors.collection_get(tenant=tenant, collection_id=p["collection_id"])
    members = selectors.collection_products(collection=c, offset=p["offset"], limit=p["limit"])
    # The products come in pages; the response itself says whether and how to get the rest.
    c.products_page = shapes.ProductsPage(members, offset=p["offset"], limit=p["limit"], total=c.memberships.count())
    c.product_count = c.products_page.total
    c.last_sort = c.sort_runs.order_by("-started_at", "-id").first()
    # platform extension: the latest writeback of an order to the store (null when none was made)
    c.latest_writeback = c.store_writebacks.order_by("-created_at", "-id").first()
    return collection_detail_out(c)


def enable_collection(tenant: Tenant, p: dict) -> dict:
    return collection_out(services.collection_enable(tenant=tenant, **p))


def disable_collection(tenant: Tenant, p: dict) -> dict:
    collection, run = services.collection_disable(tenant=tenant, **p)
    collection.reverted = run  # the revert sort it ran, None without a revert order (CollectionDisabledOut)
    return collection_disabled_out(collection)


def update_collection(tenant: Tenant, p: dict) -> dict:
    return collection_out(services.collection_update(tenant=tenant, **p))


def bulk_toggle_collections(tenant: Tenant, p: dict) -> dict:
    results = services.collections_bulk_toggle(tenant=tenant, **p)
    for collection, run in results:
        collection.reverted = run  # the revert sort a disable ran, else None (ToggledOut)
    return bulk_toggle_out(shapes.BulkToggled(status=p["status"], collections=[c for c, _ in results]))


def bulk_assign_recipe(tenant: Tenant, p: dict) -> dict:
    collections = services.collections_bulk_assign_recipe(tenant=tenant, **p)
    return bulk_assign_out(shapes.BulkAssigned(metrics_id=p["metrics_id"], collections=collections))


def sort_preview(plan: services.SortPlan) -> shapes.SortPreview:
    """A dry run's answer: the plan, with the products it shows in detail or lists as moved loaded."""
    shown = [*plan.new[: shapes.PREVIEW_PRODUCTS], *plan.moved[: shapes.PREVIEW_PRODUCTS]]
    products = Product.objects.filter(pk__in=shown).only("external_id", "name")
    return shapes.SortPreview(plan, {product.pk: product for product in products})


def sort_collection(tenant: Tenant, p: dict) -> dict:
    answer: shapes.SortQueued | shapes.SortApplied | shapes.SortPreview
    if p.get("dry_run"):
        answer = sort_preview(services.collection_sort_preview(tenant=tenant, collection_id=p["collection_id"]))
    elif "plan_id" in p:
        c, run = services.collection_sort_apply(tenant=tenant, collection_id=p["collection_id"], plan_id=p["plan_id"])
        answer = shapes.SortApplied(c, run, p["plan_id"])
    else:
        answer = shapes.SortQueued(services.collection_sort_request(tenant=tenant, collection_id=p["collection_id"]))
    return shapes.sort_answer_out(answer)


def revert_collection(tenant: Tenant, p: dict) -> dict:
    run = services.collection_revert(tenant=tenant, **p)
    return reverted_out(shapes.Reverted(collection_id=p["collection_id"], reverted=run))


def list_recipes(tenant: Tenant, p: dict) -> list[dict]:
    services.recipes_ensure_defaults(tenant=tenant)
    return [recipe_out(r) for r in selectors.recipe_list(tenant=tenant).prefetch_related("collections")]


def list_products(tenant: Tenant, p: dict) -> list[dict]:
    return [product_out(x) for x in selectors.product_list(tenant=tenant, **p)]


def get_product(tenant: Tenant, p: dict) -> dict:
    product = selectors.product_detail(tenant=tenant, **p)  # one statement (with the latest writeback's id)
    # platform extension: the latest writeback of the option order to the store (null when none was made)
    product.latest_writeback = StoreWriteback.objects.get(pk=product.writeback_id) if product.writeback_id else None
    return product_detail_out(product)


def set_product_boost(tenant: Tenant, p: dict) -> dict:
    setting = services.product_boost_set(tenant=tenant, **p)
    return boost_out(shapes.ProductSettingChanged(product_id=p["product_id"], setting=setting))


def enable_product(tenant: Tenant, p: dict) -> dict:
    return product_out(services.product_enable(tenant=tenant, **p))  # as written: nothing is read again


def disable_product(tenant: Tenant, p: dict) -> dict:
    setting = services.product_disable(tenant=tenant, **p)
    return product_disabled_out(shapes.ProductSettingChanged(product_id=p["product_id"], setting=setting))


def sort_product(tenant: Tenant, p: dict) -> dict:
    product, rules = services.product_sort_request(tenant=tenant, **p)
    return product_sort_queued_out(shapes.OptionSortQueued(product, rules))


COLLECTIONS, RECIPES, PRODUCTS = "Collections", "Recipes", "Products"
SORT_STATUS = "sort_status is idle, queued (waiting for a worker), running or error (sort_error says why)."
R, W = Permission.READ, Permission.WRITE
CID = 123456789
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action(
            "list_collections",
            COLLECTIONS,
            "List all collections with their sorting status, recipe assignment, and product count",
            s.PageParams,
            R,
            list_collections,
            notes="Returns an array of every collection ordered by ID: ID, title, enabled status, current recipe, "
            "product count, last sort time. Optional paging: since_id (the last ID seen) and limit (at most 250). "
            + SORT_STATUS,
        ),
        Action(
            "get_collection",
            COLLECTIONS,
            "Get detailed info about a single collection including its products",
            s.GetCollectionParams,
            R,
            get_collection,
            {"collection_id": CID},
            notes="Products come in their current order with their score and the points each metric gave, "
            "up to limit (default 250, at most 1000) from offset; has_more, next_offset and products_note say "
            "how to get the rest; last_sort_explanation (platform extension) says in words how the last sort "
            "ordered them; store_writeback (platform extension) says whether the order was written back to the "
            "Shopify store: state pending, sending, done, failed (error says why) or skipped, null when the shop "
            "has no Admin API access token. " + SORT_STATUS,
        ),
        Action(
            "enable_collection",
            COLLECTIONS,
            "Enable Dynasort sorting on a collection",
            s.CollectionIdParams,
            W,
            enable_collection,
            {"collection_id": CID},
        ),
        Action(
            "disable_collection",
            COLLECTIONS,
            "Disable sorting on a collection (reverts to configured sort order if set)",
            s.CollectionIdParams,
            W,
            disable_collection,
            {"collection_id": CID},
        ),
        Action(
            "update_collection",
            COLLECTIONS,
            "Assign a recipe and/or set the revert sort order for a collection",
            s.UpdateCollectionParams,
            W,
            update_collection,
            {"collection_id": CID, "metrics_id": 1, "revert_sorting": "best-selling"},
            notes="metrics_id is always required: to change only revert_sorting, send the collection's current "
            "metrics_id with it.",
        ),
        Action(
            "bulk_toggle_collections",
            COLLECTIONS,
            "Enable or disable multiple collections at once",
            s.BulkToggleParams,
            W,
            bulk_toggle_collections,
            {"collection_ids": [CID, 987654321], "status": 1},
            notes="All or nothing: if any ID is unknown nothing changes.",
        ),
        Action(
            "bulk_assign_recipe",
            COLLECTIONS,
            "Assign a recipe to multiple collections at once",
            s.BulkAssignParams,
            W,
            bulk_assign_recipe,
            {"collection_ids": [CID, 987654321], "metrics_id": 1, "revert_sorting": "best-selling"},
            notes="All or nothing: if any ID is unknown nothing changes.",
        ),
        Action(
            "sort_collection",
            COLLECTIONS,
            "Trigger an immediate sort using the assigned recipe",
            s.SortCollectionParams,
            W,
            sort_collection,
            {"collection_id": CID},
            notes="The collection must be enabled with a recipe assigned. The sort is queued and runs in the "
            "background: poll get_collection every few seconds (each call counts against the rate limit) until "
            "sort_status is idle (done: the new order is shown) or error (sort_error says why). Platform "
            "extensions: dry_run true previews the sort and changes nothing (proposed order with each product's "
            "points per metric and boost, moves, a plan_id; it needs a recipe, not enabled); plan_id then applies "
            "exactly that order at once, or is refused with invalid_params if the collection's data changed since.",
        ),
        Action(
            "revert_collection",
            COLLECTIONS,
            "Revert a collection to its configured revert sort order",
            s.CollectionIdParams,
            W,
            revert_collection,
            {"collection_id": CID},
            notes="The collection must have a revert_sorting set (update_collection).",
        ),
        Action(
            "list_recipes",
            RECIPES,
            "List all sorting recipes configured for your store",
            s.NoParams,
            R,
            list_recipes,
            notes="Returns all recipes with their ID, name, days window, attribute weights, and the "
            "collections using them. Recipes are created and edited only by the shop's staff in the admin; "
            "through this API they can be listed and assigned, not created or changed.",
        ),
        Action(
            "list_products",
            PRODUCTS,
            "List products with their Dynasort data, boost values, and option sorting status",
            s.ProductPageParams,
            R,
            list_products,
            notes="Ordered by product ID; page with since_id (the last ID seen) and limit (default 50, at most 250). "
            "enabled and sort_status are about option sorting; " + SORT_STATUS,
        ),
        Action(
            "get_product",
            PRODUCTS,
            "Get detailed info about a single product including its options",
            s.ProductIdParams,
            R,
            get_product,
            {"product_id": CID},
            notes="store_writeback (platform extension) says whether the option order of the last option sort "
            "was written back to the Shopify store: state pending, sending, done, failed (error says why) or "
            "skipped, null when the shop has no Admin API access token.",
        ),
        Action(
            "set_product_boost",
            PRODUCTS,
            "Set a boost value on a product (positive = boost up, negative = push down)",
            s.BoostParams,
            W,
            set_product_boost,
            {"product_id": CID, "boost": 50},
            notes="The boost is in score points (a recipe score is 0 to 100); any 32-bit integer is accepted.",
        ),
        Action(
            "enable_product",
            PRODUCTS,
            "Enable option sorting on a product and configure sort rules for each option",
            s.EnableProductParams,
            W,
            enable_product,
            {
                "product_id": CID,
                "options": [
                    {
                        "option_id": 111,
                        "option_name": "Color",
                        "sort_type": "sales",
                        "sold_out": "bottom",
                        "direction": "desc",
                        "days": "30",
                    }
                ],
            },
            notes="Rules of options not listed are kept. Sort types: "
            + ", ".join(s.SortType.values)
            + ". comma_separated needs csv_pattern; common_sizes takes common_size, or "
            "detects the size system from the values when it is not given; "
            "ordering types (alphabetical, numeric, common_sizes) default to direction asc, the others to desc.",
        ),
        Action(
            "disable_product",
            PRODUCTS,
            "Disable option sorting on a product",
            s.ProductIdParams,
            W,
            disable_product,
            {"product_id": CID},
            destructive=False,  # stops option sorting; the rules and the current order are kept
        ),
        Action(
            "sort_product",
            PRODUCTS,
            "Trigger an immediate re-sort of a product's options",
            s.ProductIdParams,
            W,
            sort_product,
            {"product_id": CID},
            notes="The product must be enabled with option sorting configured. The sort is queued: poll "
            "get_product until sort_status is idle or error.",
        ),
    ]
}
