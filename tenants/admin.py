from django.contrib import admin

from tenants.models import Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["domain", "name", "plan", "should_recommend_products", "created_at"]
    list_filter = ["plan", "should_recommend_products"]
    search_fields = ["domain", "name"]
    readonly_fields = ["created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        from tenants.services import tenant_create

        created = tenant_create(
            domain=obj.domain, name=obj.name, plan=obj.plan, should_recommend_products=obj.should_recommend_products
        )
        obj.pk = created.pk
