"""Django admin for staff: collections (with their ordered products), recipes, boosts, option
rules, sort runs, "sort now" actions and the connector prompt page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path

from core.admin_display import PlatformAdminMedia, RecordAdminMixin, readable
from core.outbox import enqueue
from merchandising import prompt, services
from merchandising.models import (
    Collection,
    CollectionProduct,
    OptionSortRule,
    ProductSetting,
    Recipe,
    SortRun,
    SortType,
    StoreWriteback,
)
from tenants.models import Tenant


class CollectionProductInline(admin.TabularInline):
    model = CollectionProduct
    extra = 0
    can_delete = False
    ordering = ["position", "id"]
    fields = ["position", "product", "score_shown", "score_breakdown"]
    readonly_fields = fields
    show_change_link = False

    @admin.display(description="score")
    def score_shown(self, obj):
        return "-" if obj.score is None else f"{obj.score:.2f}"

    @admin.display(description="points per metric")
    def score_breakdown(self, obj):
        return readable(obj.score_details)

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class SortRunInline(admin.TabularInline):
    model = SortRun
    extra = 0
    can_delete = False
    fields = ["started_at", "kind", "method", "status", "product_count", "moves", "message"]
    readonly_fields = fields
    ordering = ["-started_at"]
    max_num = 20

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Collection)
class CollectionAdmin(PlatformAdminMedia, admin.ModelAdmin):
    list_display = [
        "external_id",
        "title",
        "tenant",
        "enabled",
        "recipe",
        "revert_sorting",
        "sort_state",
        "last_sorted_at",
    ]
    list_filter = ["enabled", "sort_state", "tenant"]
    search_fields = ["title", "handle", "=external_id"]
    list_select_related = ["tenant", "recipe"]
    fields = [
        "tenant",
        "external_id",
        "title",
        "handle",
        "shop_sort_order",
        "enabled",
        "recipe",
        "revert_sorting",
        "sort_state",
        "sort_error",
        "sort_requested_at",
        "last_sorted_at",
        "last_sort_recipe",
        "last_sort_moves",
    ]
    readonly_fields = [
        "tenant",
        "external_id",
        "shop_sort_order",
        "sort_state",
        "sort_error",
        "sort_requested_at",
        "last_sorted_at",
        "last_sort_recipe",
        "last_sort_moves",
    ]
    inlines = [CollectionProductInline, SortRunInline]
    actions = ["sort_now", "revert_now"]

    def has_add_permission(self, request):
        return False  # collections come from the shop (PUT /api/platform/v1/collections)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # only the collection's own tenant's recipes may be assigned
        if db_field.name == "recipe" and request.resolver_match.kwargs.get("object_id"):
            collection = Collection.objects.filter(pk=request.resolver_match.kwargs["object_id"]).first()
            if collection:
                kwargs["queryset"] = Recipe.objects.for_tenant(collection.tenant)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.action(description="Sort now with the assigned recipe")
    def sort_now(self, request, queryset):
        queued = 0
        for collection in queryset.select_related("tenant"):
            if collection.enabled and collection.recipe_id:
                services.collection_sort_request(tenant=collection.tenant, collection_id=collection.external_id)
                queued += 1
        skipped = queryset.count() - queued
        self.message_user(request, f"Queued {queued} sort(s); {skipped} skipped (not enabled or no recipe).")

    @admin.action(description="Revert to the configured revert order")
    def revert_now(self, request, queryset):
        done = 0
        for collection in queryset.select_related("tenant"):
            if collection.revert_sorting:
                services.collection_revert(tenant=collection.tenant, collection_id=collection.external_id)
                done += 1
        self.message_user(request, f"Reverted {done} collection(s).", messages.SUCCESS)

    def get_urls(self):
        extra = [
            path(
                "connector-prompt/",
                self.admin_site.admin_view(self.connector_prompt_view),
                name="merchandising_connector_prompt",
            )
        ]
        return extra + super().get_urls()

    def connector_prompt_view(self, request):
        """The Dynasort system prompt of a chosen tenant, as the Connector page shows it."""
        tenants = Tenant.objects.order_by("domain")
        chosen = tenants.filter(pk=request.GET.get("tenant") or 0).first() or tenants.first()
        text = prompt.build_prompt(tenant=chosen, base_url=request.build_absolute_uri("/")) if chosen else ""
        context = {
            **self.admin_site.each_context(request),
            "title": "Dynasort connector prompt",
            "tenants": tenants,
            "chosen": chosen,
            "prompt": text,
        }
        return TemplateResponse(request, "admin/merchandising/connector_prompt.html", context)


@admin.register(Recipe)
class RecipeAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "days", "weights_text", "collection_count"]
    list_filter = ["tenant", "days"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["tenant", "name", "days"]}),
        (
            "Weights (0 to 100 each; only their ratio matters)",
            {
                "fields": [
                    "weight_sales",
                    "weight_revenue",
                    "weight_inventory",
                    "weight_margin",
                    "weight_newness",
                    "weight_discount",
                ]
            },
        ),
    ]

    @admin.display(description="weights")
    def weights_text(self, obj: Recipe) -> str:
        return ", ".join(f"{k} {v:g}" for k, v in obj.weights.items() if v)

    @admin.display(description="collections")
    def collection_count(self, obj: Recipe) -> int:
        return obj.collections.count()


@admin.register(ProductSetting)
class ProductSettingAdmin(admin.ModelAdmin):
    """Boosts and option sorting per product."""

    list_display = ["product", "tenant", "boost", "option_sorting_enabled", "option_sort_state", "options_sorted_at"]
    list_filter = ["option_sorting_enabled", "option_sort_state", "tenant"]
    search_fields = ["product__name", "=product__external_id"]
    list_select_related = ["product", "tenant"]
    raw_id_fields = ["product"]
    readonly_fields = ["option_sort_state", "option_sort_error", "options_sorted_at"]
    actions = ["sort_options_now"]

    @admin.action(description="Sort options now")
    def sort_options_now(self, request, queryset):
        from merchandising import tasks

        queued = 0
        for setting in queryset:
            has_rules = OptionSortRule.objects.filter(product_id=setting.product_id).exclude(sort_type=SortType.OFF)
            if setting.option_sorting_enabled and has_rules.exists():
                pk = setting.product_id
                enqueue(tasks.product_options_sort, pk)
                queued += 1
        self.message_user(request, f"Queued {queued} option sort(s).")


@admin.register(OptionSortRule)
class OptionSortRuleAdmin(admin.ModelAdmin):
    list_display = ["option", "product", "tenant", "sort_type", "sold_out", "direction", "days", "last_sorted_at"]
    list_filter = ["sort_type", "tenant"]
    list_select_related = ["option", "product", "tenant"]
    raw_id_fields = ["option", "product"]
    readonly_fields = ["last_sorted_at", "last_sort_method"]


@admin.register(SortRun)
class SortRunAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Sort runs are records: viewable, never added, changed or deleted by hand."""

    list_display = [
        "collection_external_id",
        "collection_title",
        "tenant",
        "kind",
        "method",
        "status",
        "moves",
        "started_at",
    ]
    list_filter = ["kind", "status", "tenant"]
    list_select_related = ["collection", "tenant"]
    # every field, the moved products as a readable list rather than raw JSON, and the store writeback
    fields = [
        *(f.name if f.name != "moved_products" else "moved" for f in SortRun._meta.fields if f.name != "id"),
        "store_writeback_shown",
    ]
    readonly_fields = fields

    @admin.display(description="written back to the store")
    def store_writeback_shown(self, obj):
        wb = StoreWriteback.objects.filter(sort_run=obj).first()
        if wb is None:
            return "- (no Admin API access token: nothing is written back)"
        shown = f"{wb.state}: {wb.sort_order}, {wb.moves_done}/{wb.move_count} moves in {wb.calls} call(s)"
        return f"{shown}; {wb.error}" if wb.error else shown

    @admin.display(description="moved products (external ids, first 250)")
    def moved(self, obj):
        return readable(obj.moved_products)

    @admin.display(description="collection", ordering="collection__title")
    def collection_title(self, obj):
        return obj.collection.title if obj.collection_id else "-"


@admin.register(StoreWriteback)
class StoreWritebackAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Writebacks of sort results to the Shopify store are records: viewable, never edited by hand."""

    list_display = ["id", "kind", "collection", "product", "tenant", "state", "move_count", "calls", "created_at"]
    list_filter = ["state", "kind", "tenant"]
    list_select_related = ["collection", "product", "tenant"]
    exclude = ["base_order", "target_order"]  # up to thousands of ids each: counts are shown instead
    readonly_fields = [
        f.name for f in StoreWriteback._meta.fields if f.name not in ("id", "base_order", "target_order")
    ]
