from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Sum
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apikeys import services, usage
from apikeys.exceptions import ApiError
from apikeys.forms import ApiKeyCreateForm, IpAllowlistField, RotateForm
from apikeys.models import ApiKey, ApiKeyEvent, ApiKeyUsageHour
from core.admin_display import PlatformAdminMedia, RecordAdminMixin, readable


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


class ApiKeyEventInline(admin.TabularInline):
    model = ApiKeyEvent
    extra = 0
    can_delete = False
    fields = ["at", "type", "actor", "details_readable"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="details")
    def details_readable(self, obj):
        return readable(obj.details)


@admin.register(ApiKey)
class ApiKeyAdmin(PlatformAdminMedia, admin.ModelAdmin):
    list_display = ["name", "tenant", "kind", "permission", "display", "status", "created_at", "last_used_at"]
    list_filter = ["kind", "permission", "tenant"]
    search_fields = ["name", "prefix", "tenant__domain"]
    actions = ["revoke_selected", "rotate_selected"]
    change_form_template = "admin/apikeys/apikey/change_form.html"
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

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "allowed_ips":  # one address or range per line instead of a raw JSON box
            return IpAllowlistField(required=False, label="Allowed IPs")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiKeyCreateForm.Meta.fields
        return [*ApiKeyCreateForm.Meta.fields, *self.readonly_fields]  # the settings, then what is shown only

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

    @admin.action(description="Rotate selected keys (with a grace period)…")
    def rotate_selected(self, request, queryset):
        return self._rotate(request, queryset, from_action=True)

    def get_urls(self):
        rotate = path(
            "<int:object_id>/rotate/", self.admin_site.admin_view(self.rotate_view), name="apikeys_apikey_rotate"
        )
        return [rotate, *super().get_urls()]

    def rotate_view(self, request, object_id: int):
        """The change page's "Rotate…" button: the same grace-period form for one key."""
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        get_object_or_404(ApiKey, pk=object_id)
        response = self._rotate(request, ApiKey.objects.filter(pk=object_id), from_action=False)
        return response or HttpResponseRedirect(reverse("admin:apikeys_apikey_changelist"))

    def _rotate(self, request, queryset, *, from_action: bool):
        """Asks for a grace period first (an intermediate page), then rotates with the rotate service."""
        form = RotateForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            grace = form.cleaned_data["grace_seconds"]
            issued = []
            for key in queryset:
                try:
                    new = services.api_key_rotate(key=key, actor=_actor(request), grace_seconds=grace)
                except ApiError as exc:
                    self.message_user(request, f"{key}: {exc.message}", messages.ERROR)
                    continue
                issued.append((new.key, new.plaintext))
                until = timezone.localtime(timezone.now() + timedelta(seconds=grace))
                self.message_user(
                    request,
                    f"{key}: the old key works until {until:%Y-%m-%d %H:%M %Z}." if grace else f"{key}: revoked now.",
                )
            # the new plaintexts in this answer's body only, never in the messages cookie
            return self.issued_response(request, issued) if issued else None
        context = {
            **self.admin_site.each_context(request),
            "title": "Rotate API keys",
            "opts": self.model._meta,
            "keys": list(queryset.select_related("tenant")),
            "form": form,
            "from_action": from_action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/apikeys/apikey/rotate.html", context)

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
class ApiKeyEventAdmin(RecordAdminMixin, PlatformAdminMedia, admin.ModelAdmin):
    list_display = ["at", "type", "key", "tenant", "actor"]
    list_filter = ["type"]
    list_select_related = ["key", "tenant"]
    fields = ["at", "type", "key", "tenant", "actor", "details_readable"]
    readonly_fields = fields

    @admin.display(description="details")
    def details_readable(self, obj):
        return readable(obj.details)


@admin.register(ApiKeyUsageHour)
class ApiKeyUsageHourAdmin(admin.ModelAdmin):
    list_display = ["hour", "key", "tenant", "requests", "errors_4xx", "errors_5xx", "throttled"]
    list_filter = ["tenant"]
    list_select_related = ["key", "tenant"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("key", "tenant")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
