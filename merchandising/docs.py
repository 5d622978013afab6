"""The docs page of the Dynasort surface (docs/merchandising.md), generated from the action registry.

``manage.py connector_docs --tenant demo.myshopify.com --write docs/merchandising.md`` takes the ids of
the curl examples from the demo shop (so they work verbatim against it); without demo data the
doc's own example ids are used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from drf_spectacular.utils import OpenApiExample

from merchandising.actions import ACTIONS
from merchandising.prompt import parameters

BASE_URL = "http://127.0.0.1:8000"  # `make run`'s address; the curl examples say $BASE, defaulting to it
DEMO_CONNECTOR_KEY = "dyn_sk_b4223b3b7455a3fcf10284b659a40492738668f862db0683ba72ddf3c46cdc7b5f3fa8d6"


@dataclass(frozen=True)
class ExampleIds:
    collection_id: int = 400000001
    other_collection_id: int = 400000002
    recipe_id: int = 1
    product_id: int = 123456789
    option_id: int = 111
    option_name: str = "Color"


# The demo shop's ids (`seed_demo`: fixed collection ids, the first recipe, product 1000 and its Color
# option): the OpenAPI document's examples use them, so "Try it out" works against `make run`.
DEMO_IDS = ExampleIds(
    collection_id=400000001,
    other_collection_id=400000002,
    recipe_id=1,
    product_id=1000,
    option_id=10001,
    option_name="Color",
)


def example_body(name: str, ids: ExampleIds) -> dict:
    """The registry's example with the doc's placeholder ids replaced by ``ids``."""
    body = json.loads(json.dumps(ACTIONS[name].example_body))
    replace = {123456789: ids.collection_id, 987654321: ids.other_collection_id}
    if "collection_id" in body:
        body["collection_id"] = replace[body["collection_id"]]
    if "collection_ids" in body:
        body["collection_ids"] = [replace[c] for c in body["collection_ids"]]
    if "metrics_id" in body:
        body["metrics_id"] = ids.recipe_id
    if "product_id" in body:
        body["product_id"] = ids.product_id
    for option in body.get("options", []):
        option["option_id"], option["option_name"] = ids.option_id, ids.option_name
    return body


INTRO = """# Merchandising: the Dynasort connector

`POST /api/v1/` (also `/api/v1`) serves the 16 actions of the vendor's Dynasort Connector API,
each described below. Every request is a JSON body with an `action`; answers are
`{{"success": true, "data": ...}}` or `{{"error": true, "message": "...", "code": "..."}}`.

This page is generated from the action registry (`merchandising/actions.py`) by
`python manage.py connector_docs --tenant demo.myshopify.com --write docs/merchandising.md` (the
Benchmarks section at the end is kept as written); the curl
examples use the demo shop's connector key and ids (`python manage.py seed_demo`) and `$BASE`, the
address of the server (`make run` serves on {base}; set `BASE` for another port):

```sh
BASE=${{BASE:-{base}}}
```

Collections 400000001 and 400000002 are the demo's fixed collection ids; the recipe, product and
option ids come from the demo database when the page is generated with `--tenant` (a page
generated without demo products shows the vendor doc's placeholders 123456789 / 111 and recipe 1:
run `list_recipes` and `list_products` for the real ones).

## Authentication, permissions, limits

- `Authorization: Bearer <key>`: the shop's `dyn_sk_` connector key or any other key of the shop.
  Read-only actions (`list_*`, `get_*`) need `read`; the others need `write`. A connector key is
  `read` (an assistant can look, not change: start with one) or `write`, and serves this connector only.
- 60 requests per minute per shop, all its keys together. Every answer carries `X-RateLimit-Limit`,
  `X-RateLimit-Remaining` and `X-RateLimit-Reset` (a Unix timestamp); over the limit: HTTP 429
  `rate_limited` with `Retry-After`.
- Errors: 400 `invalid_action` (action missing, not a string, unknown), 400 `invalid_params`
  (missing or wrongly typed parameter, bad value, a collection not enabled or without recipe for
  `sort_collection`), 401 `unauthorized`, 403 `permission_denied` (plan or key permission),
  404 `not_found` (also for ids of another shop), 429 `rate_limited`, 500 `server_error`.
  A refused request changes nothing; bulk actions are all or nothing.
- IDs are the shop's numeric ids and must be JSON integers (`"123"` is refused).
- Lists have a total order. `list_collections` lists every collection unless `limit` is given
  (then it pages with `since_id`, the last id seen, and `limit`, at most 250); `list_products` pages
  with `since_id` and `limit` (default 50); `get_collection` shows up to `limit` products (default
  250, at most 1000) from `offset`, and its answer says how to get the rest: `has_more`,
  `next_offset` (null on the last page) and `products_note` ("Products 1-250 of 1200; call
  get_collection with offset=250 for more.").

## How sorting works

- **Recipes** weigh six metrics: `sales` (units) and `revenue` over the recipe's window (7, 30, 60,
  90, 365 days or all), `inventory` (units in stock of tracked variants), `margin`
  ((price - cost) / price, averaged over variants with a cost), `newness` (days since the product
  was created; younger is better) and `discount` ((compare_at - price) / compare_at). Every shop
  starts with: Best sellers (30 days), Trending (7 days), New arrivals, High margin, Clearance.
  More are made in the Django admin (weights are form fields, 0 to 100; only their ratio matters).
- **Normalisation**: each metric becomes its percentile rank within the collection (0 to 1, the
  average rank for ties). Sales are heavy-tailed; with min-max one hit would flatten every other
  product to about 0, a rank keeps the long tail ordered. All equal: 0.5 (neutral). A product
  without a value (no cost, so no margin; no tracked inventory) leaves that metric out and its
  weights are renormalised over the rest.
- **Score** = 100 x weighted mean of the normalised metrics + boost. The boost is any 32-bit
  integer in score points (so a boost of 100 or more always wins over the recipe); scores are
  floats, so even the largest boosts add exactly and keep their order.
- **Order**: sellable products by score, ties by newest first then product id; sold-out products
  (every variant at 0 or below, except variants not tracked or sold when out of stock) after them.
- A sort runs in the background (`sort_collection` answers `queued` at once), writes all positions
  in one transaction and records when, with which recipe and which products moved (the fewest
  moves: products off a longest increasing subsequence of the old positions). Two sorts of one
  collection never run at once, in any process: a sort claims the collection with one conditional
  UPDATE (`sort_status` `running`) and a second one meanwhile ends without sorting; a crashed
  worker's claim is taken back by its redelivered task or after 15 minutes. A sort of a collection
  removed meanwhile ends cleanly. A periodic task re-sorts every enabled collection with a recipe
  every hour. A sort that fails for good shows `sort_status` `error` with `sort_error`.
- **Revert orders**: `manual` (the order before Dynasort first sorted the collection), `best-selling`
  (all-time units), `alpha-asc`/`alpha-desc` (title), `price-asc`/`price-desc` (lowest variant price),
  `created-asc`/`created-desc`. `disable_collection` reverts when a revert order is set;
  `revert_collection` reverts now.
- **Option sorting** (`enable_product`, `sort_product`) writes the new value order of each option.
  Per value it aggregates the variants with that value: sums (sales, revenues, inventories), minimum
  (prices, compare-at prices, costs), revenue-weighted average (margins, discount amounts and
  percentages), the first number in the value (`numeric`), the oldest variant's age
  (`variant_ages`, `desc` = newest first), any variant in stock (`variants_in_stock`).
  `direction` defaults to `desc` for metric types and to `asc` (A to Z, small to large) for
  `alphabetical`, `numeric` and `common_sizes`; `comma_separated` follows `csv_pattern` (case
  insensitive). `sold_out`: `bottom` (default), `top` or `ignore`. Values a pattern or size table
  does not know (or without a value, e.g. no cost) go after the known ones in their current order;
  ties keep the current order.
- **Sizes** (`common_sizes`, `merchandising/sizes.py`). Without `common_size` the size system is
  detected from the option's values: of the readers below, the one that places the most values
  is used (then the one telling most of them apart), and again for what is left. The forms read:
  baby and kids' ages in months or years written many ways (`0-3M`, `0-6 months`, `12-24months`,
  `1-2 Years`, `18 mths`, `2T`, `4-5Y`, `Newborn`; ordered by age), letters and size words
  (`XXS`..`6XL`, `X-Small`, `2XL`, `S/M`, `Small`/`Medium`/`Large`, `Standard`/`Regular` as M,
  `Mini`/`Midi`/`Maxi`, French and Spanish words, youth `YS`/`Youth M` before adult letters;
  notes in brackets such as `XL (Pack of 2)` are ignored), numeric apparel and shoe sizes (`000`,
  `00`, `0`, `2`...; halves and thirds `7.5`, `7 1/2`, `7½`, `41,5`; kids' `C` and youth `Y` shoes
  before adult ones; widths N/M/W/XW; prefixes `US`/`UK`/`EU`/`Size` ignored; `6X` after 6), waist
  x length (`32x30`, `W32 L30`) and quantities (a number with a unit of length, mass, volume or
  count, ranges such as `(1.25 - 2.5kg)` and dimensions such as `100x70 cm`). Families follow a
  size chart (ages, letters, numbers, waist x length, quantities); `One Size` (and its spellings:
  `OS`, `Taille unique`, `Talla única`...) comes after every placed value. A named `common_size`
  (`us_apparel`: ages, letters, numbers, waist x length; `us_shoes` and `eu_shoes`: numeric sizes;
  `intl_letters`: letters) reads the values first and detection places the others after them.
  Values nothing reads keep their relative order after the placed ones. On the real size options
  of four shops (105 products, 54 distinct values) every list comes out in size order and every
  value is placed (before: 38 of 54 values unplaced with the default `us_apparel`); with the
  vendor's default `sold_out: bottom` sold-out sizes go last, each group still in size order
  (`sold_out: ignore` keeps sold-out sizes in place).

## Platform surface

- `PUT /api/platform/v1/collections` (write permission): `{{"collections": [{{"id", "title",
  "handle", "sort_order", "product_ids": [...]}}]}}`, up to 1000 collections; membership is replaced
  by `product_ids` in that order. Answers per item in the platform's one shape
  ([platform.md](platform.md#per-item-results)): `{{"results": [{{"index", "id", "status"}}], "counts"}}`
  with `status` `created`, `updated` (stored before) or `rejected` with `errors` per field; an item
  naming unknown products is rejected whole (`{{"product_ids": ["Unknown product ids: 999"]}}`).
- `GET /api/platform/v1/connector/prompt`: `{{"prompt", "endpoint", "store_url"}}`, the system
  prompt for AI assistants. Also `python manage.py connector_prompt --tenant <domain>` and the admin
  page `/admin/merchandising/collection/connector-prompt/?tenant=<id>` (linked from the admin's home
  page, each shop's page and its overview).
- `GET /api/platform/v1/connector/tools?format=openai|anthropic`: `{{"format", "endpoint", "tools"}}`,
  the 16 actions as function-calling tools for assistants without MCP (`openai` by default; `strict` only where
  every parameter is required). The same actions as an MCP server: [assistants.md](assistants.md).

```
curl -X PUT $BASE/api/platform/v1/collections \\
  -H "Authorization: Bearer sk_live_MWWaGU7F1p6ZUzcB8ZstYOBtAsNuGdR2WgQEp7aSzj91inYo6" \\
  -H "Content-Type: application/json" \\
  -d '{{"collections": [{{"id": 400000009, "title": "Gifts", "handle": "gifts", "product_ids": []}}]}}'
# {{"results": [{{"index": 0, "id": 400000009, "status": "created"}}],
#  "counts": {{"created": 1, "updated": 0, "duplicate": 0, "rejected": 0}}}}      (sent again: "updated")
curl $BASE/api/platform/v1/connector/prompt \\
  -H "Authorization: Bearer sk_live_QrbeSZjvbLidULVD6WlpAD4Zy2Y2v0U5adWnpCDXCoy1HtZq3"
curl "$BASE/api/platform/v1/connector/tools?format=anthropic" \\
  -H "Authorization: Bearer sk_live_QrbeSZjvbLidULVD6WlpAD4Zy2Y2v0U5adWnpCDXCoy1HtZq3"
```

## Actions
"""


# An example that only works after another action runs that action first (the page's examples are
# run in order against the demo shop, and disable_product comes just before sort_product).
SETUP = {"sort_product": "enable_product"}


def openapi_examples(ids: ExampleIds = DEMO_IDS) -> list[OpenApiExample]:
    """One named request example per action, in the registry's order (Swagger UI offers them in a list)."""
    examples = []
    for name, action in ACTIONS.items():
        before = f" Run `{SETUP[name]}` first." if name in SETUP else ""
        examples.append(
            OpenApiExample(
                name,
                value=example_body(name, ids),
                summary=f"{name}: {action.description}",
                description=f"Permission `{action.permission}`.{before}",
                request_only=True,
            )
        )
    return examples


def _curl(name: str, ids: ExampleIds) -> str:
    body = json.dumps(example_body(name, ids))
    return (
        "curl -X POST $BASE/api/v1/ \\\n"
        f'  -H "Authorization: Bearer {DEMO_CONNECTOR_KEY}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'\n"
    )


def render(ids: ExampleIds, *, base_url: str = BASE_URL) -> str:
    out = [INTRO.format(base=base_url)]
    category = None
    for name, action in ACTIONS.items():
        if action.category != category:
            category = action.category
            out.append(f"### {category}\n")
        out.append(f"#### `{name}`\n")
        out.append(f"{action.description}. Permission: `{action.permission}`.\n")
        rows = parameters(action)
        if rows:
            out.append("| Parameter | Required | Type | Description |\n|---|---|---|---|")
            for param, required, type_name, help_text in rows:
                out.append(f"| `{param}` | {'yes' if required else 'no'} | {type_name} | {help_text} |")
            out.append("")
        if action.notes:
            out.append(action.notes + "\n")
        setup = f"# first: {SETUP[name]}\n{_curl(SETUP[name], ids)}\n" if name in SETUP else ""
        out.append(f"```\n{setup}{_curl(name, ids)}```\n")
    return "\n".join(out)
