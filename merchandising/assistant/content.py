"""What the MCP server offers besides tools: reference resources and the weekly review prompt."""

from __future__ import annotations

from merchandising.models import RevertSorting, SizeSystem, SortType
from merchandising.services import REVERT_MEANINGS

SORT_TYPE_MEANINGS: dict[str, str] = {
    SortType.OFF: "no sorting for this option",
    SortType.ALPHABETICAL: "alphabetical order of the value names",
    SortType.SALES: "units sold within the days window",
    SortType.REVENUES: "revenue within the days window",
    SortType.PRICES: "variant price",
    SortType.COMPARE_AT_PRICES: "compare-at price",
    SortType.COSTS: "cost per item",
    SortType.INVENTORIES: "available inventory",
    SortType.MARGINS: "profit margin, (price - cost) / price",
    SortType.DISCOUNT_AMOUNTS: "discount amount, compare-at minus price",
    SortType.DISCOUNT_PERCENTAGES: "discount percentage",
    SortType.NUMERIC: "the number in the value name (e.g. 32 in '32 x 34')",
    SortType.VARIANT_AGES: "how recently the variant was added",
    SortType.VARIANTS_IN_STOCK: "in-stock variants first",
    SortType.COMMA_SEPARATED: "a custom order given in csv_pattern (required), e.g. 'Red,Blue,Green'",
    SortType.COMMON_SIZES: "standard size order: of the size system in common_size, or detected from the values "
    "when not given",
}

SIZE_SYSTEM_MEANINGS: dict[str, str] = {
    SizeSystem.US_APPAREL: "apparel: baby (0-3M ... 5T), letters (XXXS, XS, S, M, L, XL ... 6XL, "
    "also Small/Medium/Large), numeric (00, 0, 2, 4 ...), waist x inseam (32x34); one size last",
    SizeSystem.US_SHOES: "US shoe sizes with halves (7, 7.5, 8 ...), kids' C and Y sizes and widths (N, M, W)",
    SizeSystem.EU_SHOES: "EU shoe sizes (35, 36, 37 ...)",
    SizeSystem.INTL_LETTERS: "international letter sizes only (XS, S, M, L, XL ...)",
}


def reference_markdown() -> str:
    """Sort types, size systems and revert orders with what each means (no shop data)."""
    lines = ["# Dynasort reference", "", "## Option sort types (enable_product options[].sort_type)", ""]
    lines += [f"- `{k}`: {v}" for k, v in SORT_TYPE_MEANINGS.items()]
    lines += [
        "",
        "`sold_out`: bottom (default), top or ignore. `direction`: desc by default; alphabetical, numeric and "
        "common_sizes default to asc. `days`: 7, 30 (default), 60, 90, 365 or all.",
        "",
        "## Size systems (options[].common_size, with common_sizes only; without it the system is detected "
        "from the values: ages, letters, numbers, waist x length, quantities; one size last)",
        "",
    ]
    lines += [f"- `{k}`: {v}" for k, v in SIZE_SYSTEM_MEANINGS.items()]
    lines += ["", "## Revert orders (revert_sorting)", ""]
    lines += [f"- `{k}`: {REVERT_MEANINGS[k]}" for k in RevertSorting.values]
    lines += [
        "",
        "## Recipe metrics (list_recipes weights)",
        "",
        "sales and revenue within the recipe's days window, inventory (units in stock), margin, newness "
        "(recently created first) and discount. A product's score is 100 x the weighted mean of its percentile "
        "rank in the collection on each metric, plus its boost (-1000 to 1000); highest first, sold-out last. "
        "Recipes are created by the shop's staff in the admin; the API lists and assigns them.",
        "",
        "## Sort status",
        "",
        "sort_status is idle, queued, running or error (sort_error says why). After sort_collection or "
        "sort_product, poll get_collection or get_product every few seconds until it is idle or error; each "
        "call counts against the 60 requests per minute of the shop.",
    ]
    return "\n".join(lines) + "\n"


WEEKLY_REVIEW = """\
Run this shop's weekly merchandising review with the Dynasort tools. Change nothing without my go-ahead.

1. list_collections (page with since_id): note collections with sort_status error (and their sort_error),
   enabled collections without a recipe, and collections not sorted in the last 7 days.
2. list_recipes: which recipe each enabled collection uses, with its weights and days window.
3. For the enabled collections with the most products{focus}, preview a re-sort with
   sort_collection dry_run true: how many products would move, the new top 10 and why (score_details, boosts).
4. list_products: products with a boost; say whether each boost still earns its place in the previews.
5. Summarise in a short table: collection, recipe, last sorted, products moving, problems found.
6. Propose changes (recipe assignments, boosts, re-sorts). For each re-sort I approve, apply the preview with
   its plan_id (if it is refused as changed, preview again and show me the difference first).
"""


def weekly_review(focus: str | None = None) -> str:
    return WEEKLY_REVIEW.format(focus=f" (in particular: {focus})" if focus else "")
