"""Admin: products with their pricing settings, competitors inline and a chart of prices over time."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from catalog.models import Variant
from core.admin_display import PlatformAdminMedia, RecordAdminMixin, money, readable
from pricing import selectors, services
from pricing.charts import price_chart_svg
from pricing.models import (
    Competitor,
    Observation,
    PriceChange,
    PricedProduct,
    PriceSource,
    PricingSettings,
    RepriceRun,
)


class ReadOnlyRecordAdmin(RecordAdminMixin, PlatformAdminMedia, admin.ModelAdmin):
    """Records of what happened (observations as received, price history, runs): viewable, never
    added, changed or deleted by hand."""


class PricingSettingsInline(admin.StackedInline):
    model = PricingSettings
    can_delete = False
    max_num = 1
    exclude = ["tenant", "decided_inputs", "last_decision"]  # a digest for the repricer, nothing to read or edit
    readonly_fields = ["last_repriced_at", "last_known_price", "last_decision_readable"]

    @admin.display(description="last decision")
    def last_decision_readable(self, obj):
        return readable(obj.last_decision) if obj else "-"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # the settings row belongs to the product's tenant; it is not a choice
        formset.form.base_fields.pop("tenant", None)
        return formset


URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class CompetitorInline(admin.TabularInline):
    model = Competitor
    formfield_overrides = URL_FIELDS
    extra = 0
    fields = ["name", "url", "current_price", "in_stock", "last_observed_at"]
    readonly_fields = ["current_price", "in_stock", "last_observed_at"]
    classes = ["wide-inline"]


class PriceChangeInline(admin.TabularInline):
    model = PriceChange
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["created_at", "old_price", "new_price", "source", "reason"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False


class PricedProductForm(forms.ModelForm):
    """The product page's one editable thing of its own: a manual price change (recorded as ``manual``)."""

    new_price = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        help_text="set the product's price by hand (all variants move by the same ratio)",
    )
    price_reason = forms.CharField(required=False, max_length=200, initial="set in admin")

    class Meta:
        model = PricedProduct
        fields: list[str] = []


@admin.register(PricedProduct)
class PricedProductAdmin(PlatformAdminMedia, admin.ModelAdmin):
    form = PricedProductForm
    list_display = ["external_id", "name", "tenant", "current_price", "auto_reprice", "monitored", "competitor_count"]
    list_select_related = ["tenant", "pricing"]
    list_filter = ["tenant", "pricing__auto_reprice", "pricing__active"]
    search_fields = ["name", "=external_id"]
    ordering = ["tenant", "external_id", "id"]
    readonly_fields = ["tenant", "external_id", "name", "current_price", "price_chart"]
    fields = [*readonly_fields, "new_price", "price_reason"]
    inlines = [PricingSettingsInline, CompetitorInline, PriceChangeInline]

    def get_queryset(self, request):
        reference = Variant.objects.filter(product=OuterRef("pk")).order_by("position", "id").values("price")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(reference_price=Subquery(reference), n_competitors=Count("competitors", distinct=True))
        )

    def has_add_permission(self, request):
        return False  # products come from the catalog sync

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # the catalog fields are read-only here; only a manual price change is written
        price = form.cleaned_data.get("new_price")
        if price is not None:
            services.product_price_set(
                tenant=obj.tenant,
                product=obj,
                price=price,
                source=PriceSource.MANUAL,
                reason=f"{form.cleaned_data.get('price_reason') or 'set in admin'} ({request.user})"[:500],
            )

    def save_formset(self, request, form, formset, change):
        # inline rows take the product's tenant (no tenant field is shown)
        for instance in formset.save(commit=False):
            instance.tenant_id = form.instance.tenant_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()

    @admin.display(description="current price", ordering="reference_price")
    def current_price(self, obj):
        return money(obj.reference_price)

    @admin.display(description="auto", boolean=True)
    def auto_reprice(self, obj):
        row = selectors.settings_of(obj)
        return bool(row and row.auto_reprice)

    @admin.display(description="monitored", boolean=True)
    def monitored(self, obj):
        row = selectors.settings_of(obj)
        return row.active if row else True

    @admin.display(description="competitors")
    def competitor_count(self, obj):
        return obj.n_competitors

    @admin.display(description="our price vs competitors (30 days)")
    def price_chart(self, obj):
        # the SVG is built from numbers and escaped names only
        return mark_safe(price_chart_svg(selectors.price_chart_series(product=obj)))  # noqa: S308


@admin.register(Competitor)
class CompetitorAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["name", "product", "tenant", "current_price", "in_stock", "last_observed_at"]
    list_select_related = ["product", "tenant"]
    list_filter = ["tenant", "in_stock"]
    search_fields = ["name", "=product__external_id"]
    raw_id_fields = ["product"]
    readonly_fields = ["tenant", "current_price", "in_stock", "last_observed_at"]


@admin.register(Observation)
class ObservationAdmin(ReadOnlyRecordAdmin):
    list_display = ["competitor_name", "product", "price", "in_stock", "observed_at"]
    list_select_related = ["competitor", "product"]
    list_filter = ["tenant", "in_stock"]
    search_fields = ["competitor__name", "=product__external_id", "product__name"]
    date_hierarchy = "observed_at"
    fields = ["tenant", "product", "competitor", "price", "in_stock", "observed_at", "received_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("competitor", "product")

    @admin.display(description="competitor", ordering="competitor__name")
    def competitor_name(self, obj):
        return obj.competitor.name


@admin.register(PriceChange)
class PriceChangeAdmin(ReadOnlyRecordAdmin):
    list_display = ["product", "old_price", "new_price", "source", "created_at", "short_reason"]
    list_select_related = ["product"]
    list_filter = ["tenant", "source"]
    search_fields = ["=product__external_id", "product__name"]
    date_hierarchy = "created_at"
    fields = ["tenant", "product", "old_price", "new_price", "source", "reason", "details_readable", "created_at"]
    readonly_fields = fields

    @admin.display(description="reason")
    def short_reason(self, obj):
        return format_html("{}", obj.reason[:80])

    @admin.display(description="details")
    def details_readable(self, obj):
        return readable(obj.details)


@admin.register(RepriceRun)
class RepriceRunAdmin(ReadOnlyRecordAdmin):
    list_display = ["tenant", "trigger", "state", "products_checked", "products_changed", "started_at", "finished_at"]
    list_filter = ["state", "tenant"]
    list_select_related = ["tenant"]
