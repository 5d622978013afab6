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
from merchandising.models import Collection, SortRun, StoreWriteback
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


def sort_run_out(run: SortRun | None) -> dict[str, Any] | None:
    return None if run is None else render_function(shapes.SortRunOut)(run)


def writeback_out(wb: StoreWriteback | None) -> dict[str, Any] | None:
    return None if wb is None else render_function(shapes.StoreWritebackOut)(wb)


recipe_out = render_function(shapes.RecipeOut)
product_out = render_function(shapes.ProductOut)
product_detail_out = render_function(shapes.ProductDetailOut)
collection_product_out = render_function(shapes.CollectionProductOut)
queued_option_out = render_function(shapes.QueuedOptionOut)


# ---- handlers ---------------------------------------------------------------------------------


def list_collections(tenant: Tenant, p: dict) -> list[dict]:
    return [collection_out(c) for c in selectors.collection_list(tenant=tenant, **p)]


def get_collection(tenant: Tenant, p: dict) -> dict:
    c = selectors.collection_get(tenant=tenant, collection_id=p["collection_id"])
    members = selectors.collection_products(collection=c, offset=p["offset"], limit=p["limit"])
    total = c.memberships.count()
    data = collection_out(c, product_count=total)
    last = c.sort_runs.order_by("-started_at", "-id").first()
    data["last_sort"] = sort_run_out(last)
    data["last_sort_explanation"] = (last.message or None) if last else None
    # platform extension: the latest writeback of an order to the store (null when none was made)
    data["store_writeback"] = writeback_out(c.store_writebacks.order_by("-created_at", "-id").first())
    data["offset"], data["limit"] = p["offset"], p["limit"]
    # The products come in pages; the response itself says whether and how to get the rest.
    shown_to = p["offset"] + len(members)
    data["has_more"] = shown_to < total
    data["next_offset"] = shown_to if shown_to < total else None
    if not members:
        note = f"No products at offset {p['offset']}; the collection has {total}."
    elif shown_to < total:
        note = f"Products {p['offset'] + 1}-{shown_to} of {total}; call get_collection with offset={shown_to} for more."
    else:
        note = f"Products {p['offset'] + 1}-{shown_to} of {total}; there are no more."
    data["products_note"] = note
    data["products"] = [collection_product_out(m) for m in members]
    return data


def enable_collection(tenant: Tenant, p: dict) -> dict:
    return collection_out(services.collection_enable(tenant=tenant, **p))


def disable_collection(tenant: Tenant, p: dict) -> dict:
    collection, run = services.collection_disable(tenant=tenant, **p)
    return collection_out(collection) | {"reverted": sort_run_out(run)}


def update_collection(tenant: Tenant, p: dict) -> dict:
    return collection_out(services.collection_update(tenant=tenant, **p))


def bulk_toggle_collections(tenant: Tenant, p: dict) -> dict:
    results = services.collections_bulk_toggle(tenant=tenant, **p)
    return {
        "updated": len(results),
        "status": p["status"],
        "collections": [
            {"id": c.external_id, "enabled": c.enabled, "reverted": sort_run_out(run)} for c, run in results
        ],
    }


def bulk_assign_recipe(tenant: Tenant, p: dict) -> dict:
    collections = services.collections_bulk_assign_recipe(tenant=tenant, **p)
    return {
        "updated": len(collections),
        "metrics_id": p["metrics_id"],
        "collections": [
            {"id": c.external_id, "metrics_id": c.recipe_id, "revert_sorting": c.revert_sorting or None}
            for c in collections
        ],
    }


def sort_plan_out(plan: services.SortPlan) -> dict[str, Any]:
    """A dry run: the proposed order (first PREVIEW_PRODUCTS products in detail) and its plan_id."""
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=[*plan.new[:PREVIEW_PRODUCTS], *plan.moved[:250]]).only(
            "external_id", "name"
        )
    }
    old_position = {pid: i for i, pid in enumerate(plan.current)}
    recipe = plan.recipe
    return {
        "collection_id": plan.collection.external_id,
        "status": "preview",
        "recipe": {"id": recipe.pk, "name": recipe.name, "days": recipe.days, "weights": recipe.weights},
        "enabled": plan.collection.enabled,
        "plan_id": plan.plan_id,
        "product_count": len(plan.new),
        "moves": len(plan.moved),
        "moved_product_ids": [products[pk].external_id for pk in plan.moved[:250] if pk in products],
        "products": [
            {
                "product_id": products[pk].external_id,
                "title": products[pk].name,
                "position": i,
                "current_position": old_position.get(pk),
                "score": plan.scores[pk].score,
                "score_details": plan.scores[pk].points,
                "boost": plan.boosts.get(pk, 0),
                "sold_out": plan.scores[pk].sold_out,
            }
            for i, pk in enumerate(plan.new[:PREVIEW_PRODUCTS])
        ],
    }


PREVIEW_PRODUCTS = 250


def sort_collection(tenant: Tenant, p: dict) -> dict:
    if p.get("dry_run"):
        return sort_plan_out(services.collection_sort_preview(tenant=tenant, collection_id=p["collection_id"]))
    if "plan_id" in p:
        c, run = services.collection_sort_apply(tenant=tenant, collection_id=p["collection_id"], plan_id=p["plan_id"])
        return {
            "collection_id": c.external_id,
            "status": "applied",
            "recipe": {"id": c.recipe.pk, "name": c.recipe.name},
            "queued_at": None,
            "plan_id": p["plan_id"],
            "sorted_at": shapes.iso(run.started_at),
            "product_count": run.product_count,
            "moves": run.moves,
            "moved_product_ids": run.moved_products,
        }
    c = services.collection_sort_request(tenant=tenant, collection_id=p["collection_id"])
    return {
        "collection_id": c.external_id,
        "status": "queued",
        "recipe": {"id": c.recipe.pk, "name": c.recipe.name},
        "queued_at": shapes.iso(c.sort_requested_at),
    }


def revert_collection(tenant: Tenant, p: dict) -> dict:
    run = services.collection_revert(tenant=tenant, **p)
    return {"collection_id": p["collection_id"], "reverted": sort_run_out(run)}


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
    return {"product_id": p["product_id"], "boost": setting.boost}


def enable_product(tenant: Tenant, p: dict) -> dict:
    return product_out(services.product_enable(tenant=tenant, **p))  # as written: nothing is read again


def disable_product(tenant: Tenant, p: dict) -> dict:
    services.product_disable(tenant=tenant, **p)
    return {"product_id": p["product_id"], "enabled": False}


def sort_product(tenant: Tenant, p: dict) -> dict:
    product, rules = services.product_sort_request(tenant=tenant, **p)
    return {
        "product_id": product.external_id,
        "status": "queued",
        "options": [queued_option_out(rule) for rule in rules],
    }


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
