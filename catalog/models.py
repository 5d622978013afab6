"""The product master shared by every surface (DESIGN.md "One product, three views").

A product is one row per tenant keyed by the shop's own id (``external_id``);
the other apps attach their data to these rows.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.models import Tenant, TenantQuerySet


class TenantOwned(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Category(TenantOwned):
    """A node of the shop's category taxonomy (Sortillus shop categories)."""

    external_id = models.BigIntegerField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    level = models.PositiveSmallIntegerField(default=1)
    full_external_id = models.CharField(max_length=40, help_text="L{level}_{external_id}")
    name = models.CharField(max_length=255)
    en_name = models.CharField(max_length=255)
    en_description = models.TextField()
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="category_unique_external_id"),
            models.CheckConstraint(condition=models.Q(external_id__gt=0), name="category_external_id_positive"),
            models.CheckConstraint(condition=models.Q(level__gte=1), name="category_level_positive"),
        ]
        indexes = [models.Index(fields=["tenant", "full_external_id"])]

    def __str__(self) -> str:
        return f"{self.full_external_id} {self.name}"


class CategoryAttribute(TenantOwned):
    """A product attribute assigned to a category (e.g. Color), with its options."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attributes")
    external_id = models.BigIntegerField()
    name = models.CharField(max_length=255)
    measurement = models.CharField(max_length=50, null=True, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "external_id"], name="attribute_unique_per_category")
        ]

    def __str__(self) -> str:
        return self.name


class AttributeOption(TenantOwned):
    attribute = models.ForeignKey(CategoryAttribute, on_delete=models.CASCADE, related_name="options")
    external_id = models.BigIntegerField()
    name = models.CharField(max_length=255)
    measurement = models.CharField(max_length=50, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attribute", "external_id"], name="option_unique_per_attribute")]

    def __str__(self) -> str:
        return self.name


class DuplicateCluster(TenantOwned):
    """Products that are the same item (they share a valid normalised GTIN); one is canonical."""

    canonical = models.ForeignKey(
        "Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="canonical_of"
    )
    canonical_explicit = models.BooleanField(
        default=False, help_text="the canonical was chosen through the API, not by completeness"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"cluster of {self.canonical.name}" if self.canonical_id else f"cluster {self.pk}"


class ProductState(models.TextChoices):
    NEW = "new"
    READY = "ready"
    RECOMMENDING = "recommending_products"
    RECOMMENDED = "recommended_products"
    ERROR = "error"


class CategorySource(models.TextChoices):
    """Who put a product into its category: the merchant (never overwritten) or a suggestion."""

    MERCHANT = "merchant"
    SUGGESTED = "suggested"


class Product(TenantOwned):
    """A shop's product, addressed everywhere by ``external_id``."""

    external_id = models.BigIntegerField()
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    image = models.URLField(max_length=2048, blank=True)
    brand = models.CharField(max_length=255, blank=True, help_text="Shopify vendor")
    product_type = models.CharField(max_length=255, blank=True)
    handle = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, default="active", help_text="Shopify status: active, draft, archived")
    tags = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    category_score = models.FloatField(null=True, blank=True)
    category_source = models.CharField(
        max_length=10,
        choices=CategorySource.choices,
        blank=True,
        default="",
        db_default="",  # rows inserted without it (bulk loaders) have no source: a category there is the merchant's
        help_text="merchant: set by the shop, never replaced by a suggestion; suggested: chosen by the suggester",
    )
    suggested_category_name = models.CharField(max_length=255, blank=True)
    cluster = models.ForeignKey(
        DuplicateCluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    gtin = models.CharField(
        max_length=64, blank=True, help_text="primary GTIN: normalised to 14 digits when valid, else as sent"
    )
    state = models.CharField(max_length=30, choices=ProductState.choices, default=ProductState.NEW)
    state_changed_at = models.DateTimeField(default=timezone.now)
    recommended_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    category_suggestions = models.JSONField(
        default=list,
        blank=True,
        help_text="the best leaf categories, best first: [{category_id, full_external_id, score}] (up to five)",
    )
    category_suggested_at = models.DateTimeField(null=True, blank=True)
    canonical_link = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="explicitly the same product as this one (external_canonical_product_id)",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="product_unique_external_id"),
            models.CheckConstraint(condition=models.Q(external_id__gt=0), name="product_external_id_positive"),
            models.CheckConstraint(condition=models.Q(state__in=ProductState.values), name="product_state_valid"),
            models.CheckConstraint(
                condition=models.Q(category_source__in=["", *CategorySource.values]),
                name="product_category_source_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-updated_at", "-id"], name="product_tenant_updated"),
            models.Index(fields=["tenant", "state"], name="product_tenant_state"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class ProductCount(models.Model):
    """The tenant's number of products, kept exact by database triggers (catalog/counters.py): the sum of
    ``n`` over the tenant's slots. Written only by the triggers and ``manage.py recount``."""

    # no database constraint: a tenant's cascading delete may remove the tenant before the counted products'
    # last delta lands; a trigger on the tenant table removes the counter rows instead
    tenant = models.ForeignKey(Tenant, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    slot = models.SmallIntegerField()
    n = models.BigIntegerField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "slot"], name="product_count_unique_slot")]

    def __str__(self) -> str:
        return f"tenant {self.tenant_id} slot {self.slot}: {self.n}"


class ProductGtin(TenantOwned):
    """A GTIN of a product; ``position`` 0 is the primary one.

    ``gtin`` is the code normalised to 14 digits when it is a valid GS1 code, else the code as sent
    (``valid`` false: stored and shown, never used to match duplicates). ``code`` is the text as sent
    when it differs from ``gtin`` (e.g. "036000291452" or an 11-digit UPC-A without its leading zero).
    """

    # No single-column indexes on the foreign keys: (tenant, gtin) and the unique (product, gtin) lead with
    # them and serve every lookup by either; each extra index was one more B-tree insert per synced barcode.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="gtins", db_index=False)
    gtin = models.CharField(max_length=64)
    code = models.CharField(
        max_length=64, blank=True, default="", db_default="", help_text="as sent, when it differs from gtin"
    )
    valid = models.BooleanField(
        default=True, db_default=True, help_text="a valid GS1 code (only these match duplicates)"
    )
    position = models.PositiveSmallIntegerField(default=0)
    restricted = models.BooleanField(default=False, help_text="store-internal range: not globally unique")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["product", "gtin"], name="gtin_unique_per_product")]
        indexes = [models.Index(fields=["tenant", "gtin"])]

    def __str__(self) -> str:
        return self.gtin


class ProductOption(TenantOwned):
    """An option of a product (Color, Size) with its values in the shop's current order."""

    # the unique (product, position) index serves lookups by product
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options", db_index=False)
    external_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=255)
    position = models.PositiveSmallIntegerField()
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["product", "position"], name="option_unique_position")]

    def __str__(self) -> str:
        return self.name


class Variant(TenantOwned):
    """A sellable variant of a product: price, compare-at price, cost and inventory."""

    # No single-column indexes on the foreign keys: the unique (tenant, external_id) and (product, position)
    # lead with them and serve every lookup by either (sync bench: two B-tree inserts less per variant).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants", db_index=False)
    external_id = models.BigIntegerField()
    title = models.CharField(max_length=255, blank=True)
    option1 = models.CharField(max_length=255, blank=True)
    option2 = models.CharField(max_length=255, blank=True)
    option3 = models.CharField(max_length=255, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    compare_at_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    barcode = models.CharField(max_length=64, blank=True)
    inventory_quantity = models.IntegerField(default=0)
    inventory_tracked = models.BooleanField(default=True, help_text="false: inventory not tracked, always sellable")
    continue_selling = models.BooleanField(default=False, help_text="keeps selling when out of stock")
    inventory_item_id = models.BigIntegerField(
        null=True, blank=True, help_text="Shopify inventory item: inventory_levels webhooks name the variant by it"
    )
    position = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="variant_unique_external_id"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="variant_price_non_negative"),
            models.CheckConstraint(
                condition=models.Q(cost__isnull=True) | models.Q(cost__gte=0), name="variant_cost_non_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "position"]),
            models.Index(fields=["tenant", "inventory_item_id"], name="variant_inventory_item"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.title}"

    @property
    def sellable(self) -> bool:
        """In stock for sorting purposes: stock above zero, or not tracked, or sold when out of stock."""
        return self.inventory_quantity > 0 or not self.inventory_tracked or self.continue_selling


class Order(TenantOwned):
    """An order as synced from the shop; de-duplicated by its id."""

    external_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "external_id"], name="order_unique_external_id")]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return str(self.external_id)


class OrderLine(TenantOwned):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product_external_id = models.BigIntegerField()
    variant_external_id = models.BigIntegerField(null=True, blank=True)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    total_discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "product"]),
            # Rollups and late linking look lines up by variant within a tenant.
            models.Index(fields=["tenant", "variant"], name="orderline_tenant_variant"),
            models.Index(fields=["tenant", "variant_external_id"], name="orderline_tenant_variant_ext"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.quantity} x {self.variant_external_id}"


class DailySales(TenantOwned):
    """Sales of one variant on one day (UTC), rolled up from non-cancelled order lines.

    Every "last N days" metric reads these rows. A rollup recomputes a
    (variant, date) pair from its order lines, so re-running it changes nothing.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="daily_sales")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="daily_sales")
    date = models.DateField()
    units = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    discount = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name_plural = "daily sales"
        constraints = [models.UniqueConstraint(fields=["variant", "date"], name="daily_sales_unique_variant_date")]
        indexes = [models.Index(fields=["tenant", "product", "date"])]

    def __str__(self) -> str:
        # a row per variant and day: name the variant when it is loaded, never a query per row
        who = (self.variant.sku or self.variant.title) if DailySales.variant.is_cached(self) else self.variant_id
        return f"{who} {self.date}: {self.units}"


class Recommendation(TenantOwned):
    """A product recommended for another, with the reason (Sortillus ``recommendations``)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="recommendations")
    recommended = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    explanation = models.CharField(max_length=255)
    reason_json = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "recommended"], name="recommendation_unique_pair"),
            models.CheckConstraint(
                condition=~models.Q(product=models.F("recommended")), name="recommendation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} → {self.recommended.name}"


class ProductTransition(TenantOwned):
    """One state change of a product, timestamped, with the reason (append-only)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=30, choices=ProductState.choices)
    to_state = models.CharField(max_length=30, choices=ProductState.choices)
    event = models.CharField(max_length=50)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["product", "at"])]

    def __str__(self) -> str:
        return f"{self.product.name}: {self.from_state} → {self.to_state}"


class ProductEmbedding(TenantOwned):
    """A product's text embedding for one backend, float32 bytes; ``text_hash`` tells when it is stale."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="embeddings")
    backend = models.CharField(max_length=40)
    dim = models.PositiveSmallIntegerField()
    vector = models.BinaryField()
    text_hash = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "backend"], name="embedding_unique_product_backend")]
        indexes = [models.Index(fields=["tenant", "backend"])]

    def __str__(self) -> str:
        return f"{self.product_id} {self.backend}"


class WebhookDelivery(TenantOwned):
    """One Shopify webhook delivery as received: the de-duplication record and the processing queue.

    Shopify delivers at least once and retries with the original payload for hours; the unique
    (tenant, event id) makes a repeat a no-op, and ``state`` says what processing did with it.
    """

    class State(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        STALE = "stale"  # older than what the platform already has for that object
        REJECTED = "rejected"  # the payload failed the sync API's validation
        IGNORED = "ignored"  # a topic the platform does not act on
        FAILED = "failed"  # processing raised an error that is not transient (the detail says which)

    event_id = models.CharField(max_length=100)
    topic = models.CharField(max_length=100)
    triggered_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    detail = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event_id"], name="webhook_delivery_unique_event"),
        ]
        indexes = [models.Index(fields=["state", "received_at"], name="webhook_delivery_state")]

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id}"


class WebhookWatermark(TenantOwned):
    """The newest webhook trigger time applied to one shop object (a product, an order, an inventory level,
    a collection): a delivery triggered before it is stale and dropped."""

    resource = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=60)
    triggered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "resource", "resource_id"], name="webhook_watermark_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.resource_id} at {self.triggered_at.isoformat()}"


class InventoryLevel(TenantOwned):
    """Stock of one Shopify inventory item at one location, as the last inventory_levels webhook said.

    A variant's ``inventory_quantity`` is its total over locations; a level change moves the total by
    the difference to the level known before (so a total set by a product sync stays right)."""

    inventory_item_id = models.BigIntegerField()
    location_id = models.BigIntegerField()
    available = models.IntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "inventory_item_id", "location_id"], name="inventory_level_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.inventory_item_id} at location {self.location_id}: {self.available}"
