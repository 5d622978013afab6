"""ShopiSync input and output serializers (camelCase on the wire, kept apart).

Money: input accepts a JSON number or a string with at most 2 decimals (parsed
to Decimal without float); output is always a string with 2 decimals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import attrgetter

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikeys.fields import StrictBooleanField, StrictSerializer
from apikeys.output import ModelOutputSerializer, OutputSerializer, computed, render_function
from apikeys.schema import ShopiSyncErrorSerializer
from catalog.models import Product
from pricing.models import Competitor, PriceChange
from pricing.selectors import MAX_BIGINT, settings_of
from pricing.services import ObservationIn

MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000
MAX_DAYS = 365
MAX_OBSERVATIONS = 1000
FUTURE_TOLERANCE = timedelta(minutes=5)  # clock skew between the scraper and us


@extend_schema_field(
    {
        # at most 12 digits, 2 of them decimals (MoneyField's max_digits/decimal_places)
        "oneOf": [
            {"type": "number", "minimum": 0, "maximum": 9999999999.99},
            {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
        ],
        "description": "money, at most 2 decimals, >= 0, below 10^10",
        "nullable": True,
    }
)
class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | Decimal | str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- input ------------------------------------------------------------------------------------------------


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(default=1, min_value=1, max_value=MAX_PAGE)
    limit = serializers.IntegerField(
        default=50, min_value=1, max_value=MAX_PAGE_SIZE, help_text=f"page size, at most {MAX_PAGE_SIZE}"
    )


class HistoryQuerySerializer(PageQuerySerializer):
    days = serializers.IntegerField(default=30, min_value=1, max_value=MAX_DAYS)


class ProductUpdateSerializer(StrictSerializer):
    minPrice = MoneyField(required=False, allow_null=True, source="min_price")
    maxPrice = MoneyField(required=False, allow_null=True, source="max_price")
    costPrice = MoneyField(required=False, allow_null=True, source="cost_price")
    autoReprice = StrictBooleanField(required=False, source="auto_reprice")
    active = StrictBooleanField(required=False)

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"minPrice": ["must not be above maxPrice"]})
        return attrs


class ObservationSerializer(StrictSerializer):
    product_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    competitor = serializers.CharField(max_length=255)
    url = serializers.URLField(max_length=2048, required=False, allow_blank=True, default="")
    price = MoneyField()
    in_stock = StrictBooleanField(required=False, default=True)
    observed_at = serializers.DateTimeField()

    def validate_observed_at(self, value: datetime) -> datetime:
        # a future time would pin the competitor's "current" price until the clock catches up
        if value > timezone.now() + FUTURE_TOLERANCE:
            raise serializers.ValidationError("must not be in the future")
        return value


@extend_schema_field(OpenApiTypes.OBJECT)
class RawItemField(serializers.Field):
    """An item passed through as parsed (Decimals included); each is validated on its own afterwards."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class ObservationBatchSerializer(StrictSerializer):
    observations = serializers.ListField(
        child=RawItemField(),
        min_length=1,
        max_length=MAX_OBSERVATIONS,
        help_text=f"1 to {MAX_OBSERVATIONS} observations; each is validated on its own",
    )


class ObservationBatchSchemaSerializer(serializers.Serializer):
    """The request body as documented (the view validates the batch, then each item on its own)."""

    observations = ObservationSerializer(many=True)


def observations_validate(raw: list) -> tuple[list[ObservationIn], dict[int, dict]]:
    """Validate each observation on its own: the valid ones and the errors of the others by index."""
    valid: list[ObservationIn] = []
    errors: dict[int, dict] = {}
    for index, item in enumerate(raw):
        serializer = ObservationSerializer(data=item)
        if serializer.is_valid():
            valid.append(ObservationIn(index=index, **serializer.validated_data))
        else:
            errors[index] = {"status": "error", "errors": serializer.errors}
    return valid, errors


# --- output -----------------------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _datetime(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as DRF's DateTimeField writes it."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@extend_schema_field({"type": "string", "nullable": True, "example": "19.99"})
class MoneyOutField(serializers.Field):
    """Money in an answer: a string with 2 decimals, or null."""


def _decimal(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def _money_of(attribute: str):
    get = attrgetter(attribute)
    return lambda obj: _money(get(obj))


def _datetime_of(attribute: str):
    get = attrgetter(attribute)
    return lambda obj: _datetime(get(obj))


class CompetitorSerializer(ModelOutputSerializer):
    currentPrice = computed(_decimal(source="current_price"), _money_of("current_price"))
    inStock = serializers.BooleanField(source="in_stock")
    lastCheckedAt = computed(serializers.DateTimeField(source="last_observed_at"), _datetime_of("last_observed_at"))

    class Meta:
        model = Competitor
        fields = ["id", "name", "url", "currentPrice", "inStock", "lastCheckedAt"]


class PriceChangeSerializer(ModelOutputSerializer):
    oldPrice = computed(_decimal(source="old_price"), _money_of("old_price"))
    newPrice = computed(_decimal(source="new_price"), _money_of("new_price"))
    createdAt = computed(serializers.DateTimeField(source="created_at"), _datetime_of("created_at"))

    class Meta:
        model = PriceChange
        fields = ["id", "oldPrice", "newPrice", "reason", "source", "createdAt"]


def _setting(name: str, default, wire=lambda value: value):
    """A value of the product's settings row (pricing.selectors loads it; ``default`` without one), as ``wire``
    writes it."""

    def get(product: Product):
        row = settings_of(product)
        return wire(getattr(row, name) if row is not None else default)

    return get


class ProductSerializer(OutputSerializer):
    id = serializers.IntegerField(source="external_id", help_text="the shop's product id (productId)")
    title = serializers.CharField(source="name")
    # reference_price/_cost: the first variant's, annotated by pricing.selectors
    currentPrice = computed(MoneyOutField(read_only=True), _money_of("reference_price"))
    costPrice = computed(MoneyOutField(read_only=True), _money_of("reference_cost"))
    minPrice = computed(MoneyOutField(read_only=True), _setting("min_price", None, _money))
    maxPrice = computed(MoneyOutField(read_only=True), _setting("max_price", None, _money))
    autoReprice = computed(serializers.BooleanField(read_only=True), _setting("auto_reprice", False, bool))
    active = computed(serializers.BooleanField(read_only=True), _setting("active", True))
    strategy = computed(serializers.CharField(read_only=True), _setting("strategy", "match_lowest"))
    competitors = CompetitorSerializer(many=True)


class ProductDetailSerializer(ProductSerializer):
    priceHistory = PriceChangeSerializer(many=True, source="recent_changes")


class LinkedProductSerializer(OutputSerializer):
    id = serializers.IntegerField(source="external_id")
    title = serializers.CharField(source="name")
    currentPrice = computed(MoneyOutField(read_only=True), _money_of("reference_price"))


def _linked_product(competitor: Competitor) -> dict:
    product = competitor.product
    product.reference_price = competitor.product_reference_price  # annotated by pricing.selectors.competitor_list
    return render_function(LinkedProductSerializer)(product)


class CompetitorListSerializer(CompetitorSerializer):
    product = computed(LinkedProductSerializer(), _linked_product)

    class Meta(CompetitorSerializer.Meta):
        fields = [*CompetitorSerializer.Meta.fields, "product"]


class StatsSerializer(serializers.Serializer):
    totalProducts = serializers.IntegerField(source="total_products")
    activeProducts = serializers.IntegerField(source="active_products")
    totalCompetitors = serializers.IntegerField(source="total_competitors")
    priceChanges24h = serializers.IntegerField(source="price_changes_24h")
    plan = serializers.CharField()
    shopDomain = serializers.CharField(source="shop_domain")


class PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    totalPages = serializers.IntegerField()


# The ShopiSync error body is rendered by apikeys.surfaces for every view, so its schema lives beside it
# (component "ShopiSyncError"; a component of its own named "Error" clashed with the catalog's).
ErrorSerializer = ShopiSyncErrorSerializer


def envelope(name: str, data, *, many: bool = False, paginated: bool = False) -> serializers.Serializer:
    """The schema of a ShopiSync success body: {"success": true, "data": ..., "pagination"?}."""
    fields = {
        "success": serializers.BooleanField(default=True),
        "data": data(many=many) if isinstance(data, type) else data,
    }
    if paginated:
        fields["pagination"] = PaginationSerializer()
    return type(name, (serializers.Serializer,), fields)
