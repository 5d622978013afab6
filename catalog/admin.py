"""Django admin for staff: products (variants inline), categories, clusters, recommendations."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from catalog import category_suggestions, index, services
from catalog.exceptions import RecommendationRefused
from catalog.models import (
    AttributeOption,
    Category,
    CategoryAttribute,
    DuplicateCluster,
    Product,
    ProductGtin,
    ProductOption,
    ProductTransition,
    Recommendation,
    Variant,
    WebhookDelivery,
)
from core.admin_display import LinesField, PlatformAdminMedia, readable


class TenantInlinesMixin:
    """Rows added inline belong to the parent row's tenant (the inline forms do not ask for it)."""

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            obj.tenant_id = form.instance.tenant_id
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()


def _sized(size: int) -> dict:
    return {"attrs": {"size": size, "style": f"width: {size}ch"}}


class VariantInlineForm(forms.ModelForm):
    """Compact inputs, so the eight columns fit a 1,400 px window beside the admin's side bar."""

    class Meta:
        model = Variant
        fields = ("external_id", "title", "sku", "barcode", "price", "compare_at_price", "cost", "inventory_quantity")
        widgets = {
            "external_id": forms.NumberInput(**_sized(11)),
            "title": forms.TextInput(**_sized(15)),
            "sku": forms.TextInput(**_sized(11)),
            "barcode": forms.TextInput(**_sized(13)),
            "price": forms.NumberInput(**_sized(8)),
            "compare_at_price": forms.NumberInput(**_sized(8)),
            "cost": forms.NumberInput(**_sized(8)),
            "inventory_quantity": forms.NumberInput(**_sized(6)),
        }


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantInlineForm
    extra = 0
    fields = ("external_id", "title", "sku", "barcode", "price", "compare_at_price", "cost", "inventory_quantity")
    show_change_link = True


class OptionInlineForm(forms.ModelForm):
    """An option's values as an ordered list, one per line (the order is the shop's display order)."""

    values = LinesField(required=False, help_text="one value per line, in display order")

    class Meta:
        model = ProductOption
        fields = ("position", "name", "values")
        widgets = {"position": forms.NumberInput(**_sized(5)), "name": forms.TextInput(**_sized(16))}


class OptionInline(admin.TabularInline):
    model = ProductOption
    form = OptionInlineForm
    extra = 0
    fields = ("position", "name", "values")


class GtinInline(admin.TabularInline):
    model = ProductGtin
    extra = 0
    fields = ("gtin", "code", "valid", "position", "restricted")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # GTINs come from the catalog sync


class RecommendationInline(admin.TabularInline):
    model = Recommendation
    fk_name = "product"
    extra = 0
    fields = ("position", "recommended", "explanation", "reason")
    readonly_fields = fields
    raw_id_fields = ("recommended",)

    def has_add_permission(self, request, obj=None):
        return False  # computed by the recommender

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recommended")

    @admin.display(description="reason")
    def reason(self, obj):
        return readable(obj.reason_json)


class TransitionInline(admin.TabularInline):
    model = ProductTransition
    extra = 0
    fields = ("at", "event", "from_state", "to_state", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(PlatformAdminMedia, TenantInlinesMixin, admin.ModelAdmin):
    list_display = ("external_id", "name", "tenant", "brand", "category", "state", "active", "updated_at")
    list_filter = ("state", "active", "status", "tenant")
    search_fields = ("name", "external_id", "brand", "gtin")
    raw_id_fields = ("category", "cluster", "canonical_link")
    readonly_fields = (
        "state",
        "state_changed_at",
        "recommended_at",
        "last_error",
        "category_score",
        "category_source",
        "suggested_categories",
        "category_suggested_at",
        "created_at",
    )
    inlines = [OptionInline, VariantInline, GtinInline, RecommendationInline, TransitionInline]
    actions = ["recommend_selected"]
    list_select_related = ("tenant", "category")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="category suggestions")
    def suggested_categories(self, obj: Product):
        """The ranked suggestions (best first) as the platform endpoint shows them."""
        data = category_suggestions.product_suggestions(tenant=obj.tenant, external_id=obj.external_id)
        if not data["suggestions"]:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            "{} {} ({})",
            ((s["full_external_id"], s["name"], f"{s['score']:.2f}") for s in data["suggestions"]),
        )

    @admin.action(description="Recommend selected products")
    def recommend_selected(self, request, queryset):
        started, refused = 0, []
        for product in queryset.select_related("tenant")[:1000]:
            try:
                services.product_recommend_start(tenant=product.tenant, product=product)
                started += 1
            except RecommendationRefused as exc:
                refused.append(f"{product.external_id}: {exc.extra['message']}")
        if started:
            self.message_user(request, f"Recommendations started for {started} product(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not started: " + "; ".join(refused[:20]), messages.WARNING)


class AttributeInline(admin.TabularInline):
    model = CategoryAttribute
    extra = 0
    fields = ("external_id", "name", "measurement", "description")
    show_change_link = True


class AttributeOptionInline(admin.TabularInline):
    model = AttributeOption
    extra = 0
    fields = ("external_id", "name", "measurement")


@admin.register(Category)
class CategoryAdmin(TenantInlinesMixin, admin.ModelAdmin):
    list_display = ("full_external_id", "name", "tenant", "level", "parent", "updated_at")
    list_filter = ("level", "tenant")
    search_fields = ("name", "en_name", "full_external_id")
    raw_id_fields = ("parent",)
    inlines = [AttributeInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # a category edited here changes what products are suggested, as an API write does
        transaction.on_commit(lambda t=obj.tenant: index.categories_changed(t))
        transaction.on_commit(lambda t=obj.tenant: category_suggestions.categories_changed(t))

    def delete_model(self, request, obj):
        category_suggestions.category_delete(tenant=obj.tenant, category=obj)

    def delete_queryset(self, request, queryset):
        for category in queryset.select_related("tenant").order_by("-level", "pk"):
            if Category.objects.filter(pk=category.pk).exists():  # a parent deleted first took it along
                category_suggestions.category_delete(tenant=category.tenant, category=category)


@admin.register(CategoryAttribute)
class CategoryAttributeAdmin(TenantInlinesMixin, admin.ModelAdmin):
    list_display = ("name", "external_id", "category", "tenant", "measurement")
    search_fields = ("name",)
    raw_id_fields = ("category",)
    inlines = [AttributeOptionInline]


class ClusterMemberInline(admin.TabularInline):
    model = Product
    fk_name = "cluster"
    extra = 0
    fields = ("external_id", "name", "gtin", "brand")
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(DuplicateCluster)
class DuplicateClusterAdmin(admin.ModelAdmin):
    list_display = ("pk", "tenant", "canonical", "canonical_explicit", "updated_at")
    list_filter = ("canonical_explicit", "tenant")
    list_select_related = ("tenant", "canonical")
    raw_id_fields = ("canonical",)
    inlines = [ClusterMemberInline]


@admin.register(Recommendation)
class RecommendationAdmin(PlatformAdminMedia, admin.ModelAdmin):
    list_display = ("product", "position", "recommended", "explanation", "computed_at")
    list_filter = ("explanation", "tenant")
    list_select_related = ("product", "recommended")
    raw_id_fields = ("product", "recommended")
    search_fields = ("product__name", "recommended__name")
    readonly_fields = ("reason",)
    exclude = ("reason_json",)  # computed by the recommender: shown as a table, not a JSON box

    @admin.display(description="reason")
    def reason(self, obj):
        return readable(obj.reason_json)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Shopify webhook deliveries as received and what processing did with them: a record, not editable."""

    list_display = ["received_at", "tenant", "topic", "event_id", "state", "triggered_at", "processed_at"]
    list_filter = ["state", "topic"]
    search_fields = ["event_id", "tenant__domain", "topic"]
    date_hierarchy = "received_at"
    list_select_related = ["tenant"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
