"""ShopiSync input and output serializers (camelCase on the wire, kept apart).

Money: input accepts a JSON number or a string with at most 2 decimals (parsed
to Decimal without float); output is always a string with 2 decimals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikeys.fields import StrictBooleanField, StrictSerializer
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


MONEY = {"type": "string", "nullable": True, "example": "19.99"}


class CompetitorSerializer(serializers.ModelSerializer):
    currentPrice = serializers.DecimalField(source="current_price", max_digits=12, decimal_places=2)
    inStock = serializers.BooleanField(source="in_stock")
    lastCheckedAt = serializers.DateTimeField(source="last_observed_at")

    class Meta:
        model = Competitor
        fields = ["id", "name", "url", "currentPrice", "inStock", "lastCheckedAt"]

    def to_representation(self, competitor: Competitor) -> dict:
        # written out by hand: lists render up to 200 products x N competitors, and DRF's generic
        # field walk was most of the response time (the declared fields above are the schema)
        return {
            "id": competitor.pk,
            "name": competitor.name,
            "url": competitor.url,
            "currentPrice": _money(competitor.current_price),
            "inStock": competitor.in_stock,
            "lastCheckedAt": _datetime(competitor.last_observed_at),
        }


class PriceChangeSerializer(serializers.ModelSerializer):
    oldPrice = serializers.DecimalField(source="old_price", max_digits=12, decimal_places=2)
    newPrice = serializers.DecimalField(source="new_price", max_digits=12, decimal_places=2)
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = PriceChange
        fields = ["id", "oldPrice", "newPrice", "reason", "source", "createdAt"]


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="external_id", help_text="the shop's product id (productId)")
    title = serializers.CharField(source="name")
    currentPrice = serializers.SerializerMethodField()
    costPrice = serializers.SerializerMethodField()
    minPrice = serializers.SerializerMethodField()
    maxPrice = serializers.SerializerMethodField()
    autoReprice = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()
    strategy = serializers.SerializerMethodField()
    competitors = CompetitorSerializer(many=True)

    def to_representation(self, product: Product) -> dict:
        # by hand for speed, like CompetitorSerializer; same keys as the declared fields
        # reference_price/_cost: the first variant's, annotated by pricing.selectors.product_list
        row = settings_of(product)
        competitor = CompetitorSerializer()
        return {
            "id": product.external_id,
            "title": product.name,
            "currentPrice": _money(product.reference_price),
            "costPrice": _money(product.reference_cost),
            "minPrice": _money(row.min_price if row else None),
            "maxPrice": _money(row.max_price if row else None),
            "autoReprice": bool(row and row.auto_reprice),
            "active": row.active if row else True,
            "strategy": row.strategy if row else "match_lowest",
            "competitors": [competitor.to_representation(c) for c in product.competitors.all()],
        }

    @extend_schema_field(MONEY)
    def get_currentPrice(self, product) -> str | None:
        return _money(product.reference_price)

    @extend_schema_field(MONEY)
    def get_costPrice(self, product) -> str | None:
        return _money(product.reference_cost)

    @extend_schema_field(MONEY)
    def get_minPrice(self, product) -> str | None:
        row = settings_of(product)
        return _money(row.min_price if row else None)

    @extend_schema_field(MONEY)
    def get_maxPrice(self, product) -> str | None:
        row = settings_of(product)
        return _money(row.max_price if row else None)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_autoReprice(self, product) -> bool:
        row = settings_of(product)
        return bool(row and row.auto_reprice)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_active(self, product) -> bool:
        row = settings_of(product)
        return row.active if row else True

    @extend_schema_field(OpenApiTypes.STR)
    def get_strategy(self, product) -> str:
        row = settings_of(product)
        return row.strategy if row else "match_lowest"


class ProductDetailSerializer(ProductSerializer):
    priceHistory = PriceChangeSerializer(many=True, source="recent_changes")

    def to_representation(self, product: Product) -> dict:
        data = super().to_representation(product)
        data["priceHistory"] = PriceChangeSerializer(product.recent_changes, many=True).data
        return data


class LinkedProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="external_id")
    title = serializers.CharField(source="name")
    currentPrice = serializers.SerializerMethodField()

    @extend_schema_field(MONEY)
    def get_currentPrice(self, product) -> str | None:
        return _money(product.reference_price)


class CompetitorListSerializer(CompetitorSerializer):
    product = LinkedProductSerializer()

    class Meta(CompetitorSerializer.Meta):
        fields = [*CompetitorSerializer.Meta.fields, "product"]

    def to_representation(self, competitor: Competitor) -> dict:
        data = super().to_representation(competitor)
        data["product"] = {
            "id": competitor.product.external_id,
            "title": competitor.product.name,
            "currentPrice": _money(competitor.product_reference_price),  # pricing.selectors.competitor_list
        }
        return data


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
