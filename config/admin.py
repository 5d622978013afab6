"""The shop's page in the admin, on the top floor because it reads every app: the tenant, its keys and their
hourly usage, the last sorts and reprices (config/overview.py)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import mark_safe

from apikeys import services
from apikeys.charts import SERIES, sparkline_svg, usage_chart_svg
from apikeys.models import ApiKey
from config import overview as selectors
from core.admin_display import PlatformAdminMedia
from tenants.models import Tenant

# The admin index lists each shop's overview first (config/templates/admin/platform_index.html).
admin.site.index_template = "admin/platform_index.html"

OVERVIEW_DAYS = (1, 7, 30)


@admin.register(Tenant)
class TenantAdmin(PlatformAdminMedia, admin.ModelAdmin):
    list_display = ["domain", "name", "plan", "should_recommend_products", "created_at", "overview_link"]
    list_filter = ["plan", "should_recommend_products"]
    search_fields = ["domain", "name"]
    readonly_fields = ["created_at", "updated_at"]
    change_form_template = "admin/tenants/tenant/change_form.html"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        from tenants.services import tenant_create

        created = tenant_create(
            domain=obj.domain, name=obj.name, plan=obj.plan, should_recommend_products=obj.should_recommend_products
        )
        obj.pk = created.pk

    @admin.display(description="overview")
    def overview_link(self, obj):
        url = reverse("admin:tenants_tenant_overview", args=[obj.pk])
        return mark_safe(f'<a href="{url}">overview</a>')  # noqa: S308  (a reversed URL of an integer id)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("overview/", view(self.overview_index_view), name="tenants_tenant_overview_index"),
            path("<int:object_id>/overview/", view(self.overview_view), name="tenants_tenant_overview"),
            *super().get_urls(),
        ]

    def overview_index_view(self, request: HttpRequest):
        """Stable entry point: the only shop's overview, or the list of shops to choose from."""
        tenants = list(Tenant.objects.order_by("domain")[:2])
        if len(tenants) == 1:
            return HttpResponseRedirect(reverse("admin:tenants_tenant_overview", args=[tenants[0].pk]))
        return HttpResponseRedirect(reverse("admin:tenants_tenant_changelist"))

    def overview_view(self, request: HttpRequest, object_id: int):
        """One shop at a glance: its keys and their usage per hour, the last sorts and reprices."""
        if not self.has_view_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        tenant = get_object_or_404(Tenant, pk=object_id)
        try:
            days = int(request.GET.get("days", 7))
        except ValueError:
            days = 7
        days = days if days in OVERVIEW_DAYS else 7
        # counters still in Redis (the beat flushes every minute; the embedded demo has no beat) go to
        # the hourly rows first, as the key's own page does
        services.usage_flush(key_ids=set(ApiKey.objects.for_tenant(tenant).values_list("pk", flat=True)))
        overview = selectors.tenant_overview(tenant=tenant, days=days)
        keys = [
            {
                "usage": usage,
                # numbers only in the SVG
                "sparkline": mark_safe(sparkline_svg(usage.requests_by_hour)),  # noqa: S308
            }
            for usage in overview.keys
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Overview of {tenant.domain}",
            "subtitle": tenant.name,
            "opts": self.model._meta,
            "original": tenant,
            "overview": overview,
            "keys": keys,
            "days": days,
            "day_choices": OVERVIEW_DAYS,
            "series": [{"field": f, "label": label, "color": color} for f, label, color in SERIES],
            # built from integers and hours only
            "chart": mark_safe(usage_chart_svg(overview.hours, overview.counts)),  # noqa: S308
            "prompt_url": reverse("admin:merchandising_connector_prompt") + f"?tenant={tenant.pk}",
        }
        return TemplateResponse(request, "admin/tenants/tenant/overview.html", context)
