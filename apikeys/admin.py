from django.contrib import admin, messages
from django.db.models import Sum
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from apikeys import services, usage
from apikeys.exceptions import ApiError
from apikeys.forms import ApiKeyCreateForm
from apikeys.models import ApiKey, ApiKeyEvent, ApiKeyUsageHour


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


class ApiKeyEventInline(admin.TabularInline):
    model = ApiKeyEvent
    extra = 0
    can_delete = False
    fields = ["at", "type", "actor", "details"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "kind", "permission", "display", "status", "created_at", "last_used_at"]
    list_filter = ["kind", "permission", "tenant"]
    search_fields = ["name", "prefix", "tenant__domain"]
    actions = ["revoke_selected", "rotate_selected"]
    inlines = [ApiKeyEventInline]
    readonly_fields = [
        "display",
        "status",
        "lineage_id",
        "created_at",
        "created_by",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
        "last_used_at",
        "last_used_ip",
        "usage_summary",
    ]

    @admin.display(description="key")
    def display(self, obj):
        return f"{obj.prefix}…{obj.last_four}"

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiKeyCreateForm.Meta.fields
        return [
            "tenant",
            "name",
            "kind",
            "permission",
            "allowed_ips",
            "expires_at",
            "rate_limit",
            "rate_limit_window",
            *self.readonly_fields,
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["tenant", "kind", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        try:
            if change:
                changes = {f: form.cleaned_data[f] for f in form.changed_data if f not in ("tenant", "kind")}
                if changes:
                    services.api_key_update(key=obj, actor=_actor(request), **changes)
                return
            fields = {f: form.cleaned_data[f] for f in ApiKeyCreateForm.Meta.fields}
            issued = services.api_key_create(actor=_actor(request), **fields)
        except ApiError as exc:  # a race the form could not see (e.g. a concurrent connector key)
            self.message_user(request, f"{exc.message} {exc.errors or ''}", messages.ERROR)
            return
        obj.pk = issued.key.pk
        request.issued_keys = [(issued.key, issued.plaintext)]

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "issued_keys", None):
            return self.issued_response(request, request.issued_keys)
        return super().response_add(request, obj, post_url_continue)

    def issued_response(self, request, issued: list) -> TemplateResponse:
        """The new keys' plaintext, in this response's body only. Never through ``messages``: its cookie
        is signed, not encrypted, and its session store would keep the secret in the database."""
        context = {**self.admin_site.each_context(request), "title": "New API keys (shown once)", "issued": issued}
        response = TemplateResponse(request, "admin/apikeys/apikey/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def has_delete_permission(self, request, obj=None):
        return False  # keys are revoked, never deleted: the list is the audit trail

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(key=key, actor=_actor(request), reason="revoked in admin")
        self.message_user(request, f"Revoked {queryset.count()} key(s).")

    @admin.action(description="Rotate selected keys (new plaintext shown once)")
    def rotate_selected(self, request, queryset):
        issued = []
        for key in queryset:
            try:
                new = services.api_key_rotate(key=key, actor=_actor(request))
            except ApiError as exc:
                self.message_user(request, f"{key}: {exc.message}", messages.ERROR)
                continue
            issued.append((new.key, new.plaintext))
        return self.issued_response(request, issued) if issued else None

    @admin.display(description="usage")
    def usage_summary(self, obj):
        services.usage_flush(key_ids={obj.pk})
        totals = ApiKeyUsageHour.objects.filter(lineage_id=obj.lineage_id).aggregate(
            requests=Sum("requests"), e4=Sum("errors_4xx"), e5=Sum("errors_5xx"), throttled=Sum("throttled")
        )
        recent = usage.recent(str(obj.lineage_id))[:10]
        rows = format_html_join(
            "", "<li>{} {} {} → {} ({})</li>", ((r["at"], r["method"], r["path"], r["status"], r["ip"]) for r in recent)
        )
        return format_html(
            "{} requests, {} 4xx, {} 5xx, {} throttled<ul>{}</ul>",
            totals["requests"] or 0,
            totals["e4"] or 0,
            totals["e5"] or 0,
            totals["throttled"] or 0,
            rows,
        )


@admin.register(ApiKeyEvent)
class ApiKeyEventAdmin(admin.ModelAdmin):
    list_display = ["at", "type", "key", "tenant", "actor"]
    list_filter = ["type"]
    readonly_fields = ["at", "type", "key", "tenant", "actor", "details"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiKeyUsageHour)
class ApiKeyUsageHourAdmin(admin.ModelAdmin):
    list_display = ["hour", "key", "requests", "errors_4xx", "errors_5xx", "throttled"]
    list_filter = ["tenant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
