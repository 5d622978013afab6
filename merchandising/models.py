"""Merchandising data attached to the product master: collections and their order, recipes,
boosts, option-sort rules and the record of every sort (DESIGN.md, ALGORITHMS.md "Merchandising")."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product, ProductOption
from tenants.models import Tenant, TenantQuerySet

# The vendor documents the boost as an "Integer": any 32-bit one is accepted. Scores are floats, so even the
# extremes add exactly (no clamping needed); a boost beyond +-100 simply always wins over the recipe.
BOOST_MIN = -(2**31)
BOOST_MAX = 2**31 - 1


class Window(models.TextChoices):
    """A "last N days" window over daily sales; ``all`` means all time."""

    D7 = "7"
    D30 = "30"
    D60 = "60"
    D90 = "90"
    D365 = "365"
    ALL = "all"


class RevertSorting(models.TextChoices):
    """The 8 sort orders a collection can be reverted to (Dynasort ``revert_sorting``)."""

    MANUAL = "manual"
    BEST_SELLING = "best-selling"
    ALPHA_ASC = "alpha-asc"
    ALPHA_DESC = "alpha-desc"
    PRICE_ASC = "price-asc"
    PRICE_DESC = "price-desc"
    CREATED_DESC = "created-desc"
    CREATED_ASC = "created-asc"


class SortState(models.TextChoices):
    IDLE = "idle"
    QUEUED = "queued"
    RUNNING = "running"
    ERROR = "error"


class TenantOwned(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


RECIPE_WEIGHTS = ("sales", "revenue", "inventory", "margin", "newness", "discount")


def _weight_field(help_text: str) -> models.FloatField:
    return models.FloatField(default=0, help_text=help_text)


class Recipe(TenantOwned):
    """A named weighting of product attributes over a days window; collections sort by one."""

    name = models.CharField(max_length=100)
    days = models.CharField(max_length=3, choices=Window.choices, default=Window.D30)
    weight_sales = _weight_field("units sold in the window")
    weight_revenue = _weight_field("revenue in the window")
    weight_inventory = _weight_field("units in stock")
    weight_margin = _weight_field("margin % (price - cost) / price")
    weight_newness = _weight_field("how recently the product was created")
    weight_discount = _weight_field("discount % (compare_at - price) / compare_at")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="recipe_unique_name"),
            models.CheckConstraint(condition=Q(days__in=Window.values), name="recipe_days_valid"),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"weight_{w}__gte": 0, f"weight_{w}__lte": 100}), name=f"recipe_weight_{w}_range"
                )
                for w in RECIPE_WEIGHTS
            ],
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weights(self) -> dict[str, float]:
        return {w: float(getattr(self, f"weight_{w}")) for w in RECIPE_WEIGHTS}


class Collection(TenantOwned):
    """A shop collection (synced from the shop), its sorting settings and sort state.

    ``manual_order`` is the product order before Dynasort first sorted it, kept so
    the ``manual`` revert restores exactly what the merchant had.
    """

    external_id = models.BigIntegerField()
    title = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    shop_sort_order = models.CharField(max_length=30, blank=True, help_text="the shop's own sort_order when synced")
    enabled = models.BooleanField(default=False)
    recipe = models.ForeignKey(Recipe, null=True, blank=True, on_delete=models.SET_NULL, related_name="collections")
    revert_sorting = models.CharField(max_length=20, choices=RevertSorting.choices, blank=True)
    manual_order = models.JSONField(null=True, blank=True, help_text="product external ids before the first sort")
    sort_state = models.CharField(max_length=10, choices=SortState.choices, default=SortState.IDLE)
    sort_error = models.TextField(blank=True)
    sort_requested_at = models.DateTimeField(null=True, blank=True)
    sort_started_at = models.DateTimeField(null=True, blank=True, help_text="when the running sort claimed it")
    sort_task_id = models.CharField(max_length=64, blank=True, help_text="the task that claimed the running sort")
    last_sorted_at = models.DateTimeField(null=True, blank=True)
    last_sort_recipe = models.ForeignKey(Recipe, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_sort_moves = models.PositiveIntegerField(null=True, blank=True, help_text="moves the last sort needed")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="collection_unique_external_id"),
            models.CheckConstraint(condition=Q(external_id__gt=0), name="collection_external_id_positive"),
            models.CheckConstraint(
                condition=Q(revert_sorting__in=[*RevertSorting.values, ""]), name="collection_revert_sorting_valid"
            ),
            models.CheckConstraint(condition=Q(sort_state__in=SortState.values), name="collection_sort_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.title}"


class CollectionProduct(TenantOwned):
    """A product in a collection at a position (0 first), with its score from the last sort."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="memberships")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    score = models.FloatField(null=True, blank=True)
    score_details = models.JSONField(null=True, blank=True, help_text="points per metric of the last sort")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "product"], name="collection_product_unique"),
        ]
        indexes = [models.Index(fields=["collection", "position"], name="collection_product_position")]

    def __str__(self) -> str:
        return f"{self.collection.title} #{self.position}: {self.product.name}"


class CollectionProductCount(models.Model):
    """A collection's number of products, kept exact by database triggers (catalog/counters.py): the sum of
    ``n`` over the collection's slots. Written only by the triggers and ``manage.py recount``."""

    # no database constraints: a cascading delete may remove the collection before the last membership
    # delta lands; a trigger on the collection table removes the counter rows instead
    collection = models.ForeignKey(Collection, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    slot = models.SmallIntegerField()
    n = models.BigIntegerField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "slot"], name="collection_product_count_unique_slot")
        ]

    def __str__(self) -> str:
        return f"collection {self.collection_id} slot {self.slot}: {self.n}"


class ProductSetting(TenantOwned):
    """Dynasort's data about one product: boost and whether its options are sorted."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="merchandising")
    boost = models.IntegerField(default=0, help_text=f"points added to the score, {BOOST_MIN}..{BOOST_MAX}")
    option_sorting_enabled = models.BooleanField(default=False)
    option_sort_state = models.CharField(max_length=10, choices=SortState.choices, default=SortState.IDLE)
    option_sort_error = models.TextField(blank=True)
    options_sorted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(boost__gte=BOOST_MIN, boost__lte=BOOST_MAX), name="boost_bounded"),
            models.CheckConstraint(condition=Q(option_sort_state__in=SortState.values), name="option_sort_state_valid"),
        ]

    def __str__(self) -> str:
        return f"settings of {self.product.name}"


class SortType(models.TextChoices):
    OFF = "off"
    ALPHABETICAL = "alphabetical"
    SALES = "sales"
    REVENUES = "revenues"
    PRICES = "prices"
    COMPARE_AT_PRICES = "compare_at_prices"
    COSTS = "costs"
    INVENTORIES = "inventories"
    MARGINS = "margins"
    DISCOUNT_AMOUNTS = "discount_amounts"
    DISCOUNT_PERCENTAGES = "discount_percentages"
    NUMERIC = "numeric"
    VARIANT_AGES = "variant_ages"
    VARIANTS_IN_STOCK = "variants_in_stock"
    COMMA_SEPARATED = "comma_separated"
    COMMON_SIZES = "common_sizes"


class SoldOut(models.TextChoices):
    BOTTOM = "bottom"
    TOP = "top"
    IGNORE = "ignore"


class Direction(models.TextChoices):
    DESC = "desc"
    ASC = "asc"


class SizeSystem(models.TextChoices):
    US_APPAREL = "us_apparel"
    US_SHOES = "us_shoes"
    EU_SHOES = "eu_shoes"
    INTL_LETTERS = "intl_letters"


class OptionSortRule(TenantOwned):
    """How one option's values of a product are ordered (Dynasort ``enable_product`` options)."""

    option = models.OneToOneField(ProductOption, on_delete=models.CASCADE, related_name="sort_rule")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="option_sort_rules")
    sort_type = models.CharField(max_length=25, choices=SortType.choices)
    sold_out = models.CharField(max_length=10, choices=SoldOut.choices, default=SoldOut.BOTTOM)
    direction = models.CharField(max_length=4, choices=Direction.choices, default=Direction.DESC)
    days = models.CharField(max_length=3, choices=Window.choices, default=Window.D30)
    csv_pattern = models.TextField(blank=True)
    common_size = models.CharField(max_length=20, choices=SizeSystem.choices, blank=True)
    last_sorted_at = models.DateTimeField(null=True, blank=True)
    last_sort_method = models.CharField(max_length=200, blank=True, help_text="how the last sort ordered the values")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["option__position"]
        constraints = [
            models.CheckConstraint(condition=Q(sort_type__in=SortType.values), name="option_rule_sort_type_valid"),
            models.CheckConstraint(condition=Q(sold_out__in=SoldOut.values), name="option_rule_sold_out_valid"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="option_rule_direction_valid"),
            models.CheckConstraint(condition=Q(days__in=Window.values), name="option_rule_days_valid"),
            models.CheckConstraint(
                condition=Q(csv_pattern="") | Q(sort_type=SortType.COMMA_SEPARATED),
                name="option_rule_csv_only_comma_separated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.option.name} of {self.product.name}: {self.sort_type}"


class SortRun(TenantOwned):
    """One sort or revert of a collection: when, how, with which recipe and what moved."""

    class Kind(models.TextChoices):
        RECIPE = "recipe"
        REVERT = "revert"

    class Status(models.TextChoices):
        DONE = "done"
        SKIPPED = "skipped"
        ERROR = "error"

    collection = models.ForeignKey(Collection, null=True, on_delete=models.SET_NULL, related_name="sort_runs")
    collection_external_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    recipe = models.ForeignKey(Recipe, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=100, help_text="recipe name or revert order")
    status = models.CharField(max_length=10, choices=Status.choices)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    product_count = models.PositiveIntegerField(default=0)
    moves = models.PositiveIntegerField(default=0, help_text="products off a longest increasing subsequence")
    moved_products = models.JSONField(default=list, blank=True, help_text="external ids that moved (first 250)")
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["collection", "-started_at"], name="sort_run_collection_started")]

    def __str__(self) -> str:
        title = self.collection.title if self.collection_id else self.collection_external_id
        return f"{self.kind} of {title} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class WritebackKind(models.TextChoices):
    COLLECTION = "collection"
    PRODUCT_OPTIONS = "product_options"


class WritebackState(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"


class StoreWriteback(TenantOwned):
    """Writing one sort result back to the Shopify store (merchandising.store_writeback): a collection's order
    after a sort run, or a product's option value order after an option sort.

    Records what was sent (the sort order set, the moves, the calls), the reorder job ids, the outcome and
    the error. Made only when the shop's connection has an Admin API access token; without one nothing is
    recorded and nothing is sent. A newer writeback of the same collection (or product) supersedes one still
    pending: the store only ever needs the newest order.
    """

    Kind = WritebackKind
    State = WritebackState

    kind = models.CharField(max_length=20, choices=WritebackKind.choices)
    sort_run = models.OneToOneField(
        SortRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="store_writeback"
    )
    collection = models.ForeignKey(
        Collection, null=True, blank=True, on_delete=models.CASCADE, related_name="store_writebacks"
    )
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=12, choices=WritebackState.choices, default=WritebackState.PENDING)
    sort_order = models.CharField(max_length=20, blank=True, help_text="the collection sort order set (MANUAL, ...)")
    base_order = models.JSONField(default=list, blank=True, help_text="product ids in the store's order before")
    target_order = models.JSONField(default=list, blank=True, help_text="product ids in the order to reach")
    options = models.JSONField(default=list, blank=True, help_text="productOptionsReorder input (option names)")
    sort_order_sent = models.BooleanField(default=False, help_text="the collection's sort order is set")
    move_count = models.PositiveIntegerField(default=0, help_text="moves of the fewest-moves plan")
    moves_done = models.PositiveIntegerField(default=0, help_text="moves the store confirmed (jobs done)")
    calls = models.PositiveIntegerField(default=0, help_text="mutations the store accepted")
    requests = models.PositiveIntegerField(default=0, help_text="HTTP requests, with polls and throttled ones")
    throttled = models.PositiveIntegerField(default=0, help_text="requests the store throttled")
    job_ids = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=WritebackKind.values), name="writeback_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=WritebackState.values), name="writeback_state_valid"),
            models.CheckConstraint(
                condition=(Q(kind="collection", collection__isnull=False, product__isnull=True))
                | (Q(kind="product_options", product__isnull=False, collection__isnull=True)),
                name="writeback_target_matches_kind",
            ),
            models.CheckConstraint(condition=Q(moves_done__lte=models.F("move_count")), name="writeback_moves_done"),
            models.CheckConstraint(condition=~Q(state="failed") | ~Q(error=""), name="writeback_failed_has_error"),
            # one writeback waiting per collection / product: a newer one supersedes it
            models.UniqueConstraint(
                fields=["collection"], condition=Q(state="pending"), name="writeback_one_pending_per_collection"
            ),
            models.UniqueConstraint(
                fields=["product"], condition=Q(state="pending"), name="writeback_one_pending_per_product"
            ),
        ]
        indexes = [models.Index(fields=["collection", "-created_at"], name="writeback_collection_created")]

    def __str__(self) -> str:
        return f"{self.kind} writeback #{self.pk} ({self.state})"
