"""Django admin for staff: products (variants inline), categories, clusters, recommendations."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
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
)


class TenantInlinesMixin:
    """Rows added inline belong to the parent row's tenant (the inline forms do not ask for it)."""

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            obj.tenant_id = form.instance.tenant_id
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("external_id", "title", "sku", "barcode", "price", "compare_at_price", "cost", "inventory_quantity")
    show_change_link = True


class OptionInline(admin.TabularInline):
    model = ProductOption
    extra = 0
    fields = ("position", "name", "values")


class GtinInline(admin.TabularInline):
    model = ProductGtin
    extra = 0
    fields = ("gtin", "position", "restricted")
    readonly_fields = fields


class RecommendationInline(admin.TabularInline):
    model = Recommendation
    fk_name = "product"
    extra = 0
    fields = ("position", "recommended", "explanation", "reason_json")
    readonly_fields = fields
    raw_id_fields = ("recommended",)


class TransitionInline(admin.TabularInline):
    model = ProductTransition
    extra = 0
    fields = ("at", "event", "from_state", "to_state", "reason")
    readonly_fields = fields
    can_delete = False


@admin.register(Product)
class ProductAdmin(TenantInlinesMixin, admin.ModelAdmin):
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
    raw_id_fields = ("canonical",)
    inlines = [ClusterMemberInline]


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ("product", "position", "recommended", "explanation", "computed_at")
    list_filter = ("explanation", "tenant")
    raw_id_fields = ("product", "recommended")
    search_fields = ("product__name", "recommended__name")
