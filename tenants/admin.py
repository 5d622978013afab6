from django import forms
from django.contrib import admin

from tenants.models import ShopConnection, Tenant


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


class ShopConnectionForm(forms.ModelForm):
    """The secret is typed in, never shown back: the stored value is encrypted (tenants.crypto)."""

    new_webhook_secret = forms.CharField(
        required=False,
        min_length=8,
        max_length=255,
        widget=forms.PasswordInput(render_value=False),
        help_text="The app's webhook signing secret (Shopify admin → app → API credentials). "
        "Leave empty to keep the current one.",
    )
    keep_previous_secret = forms.BooleanField(
        required=False, help_text="Rotation: keep accepting the secret in use so far until the rotation ends."
    )

    class Meta:
        model = ShopConnection
        fields = ["tenant", "shop_domain"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not cleaned.get("new_webhook_secret"):
            self.add_error("new_webhook_secret", "A new connection needs the webhook secret.")
        return cleaned


@admin.register(ShopConnection)
class ShopConnectionAdmin(admin.ModelAdmin):
    form = ShopConnectionForm
    list_display = ["shop_domain", "tenant", "secret_shown", "rotation", "updated_at"]
    search_fields = ["shop_domain", "tenant__domain"]
    readonly_fields = ["secret_shown", "rotation", "created_at", "updated_at"]
    actions = ["end_rotation"]

    @admin.display(description="webhook secret")
    def secret_shown(self, obj: ShopConnection) -> str:
        from tenants import crypto

        return crypto.masked(crypto.decrypt(obj.webhook_secret)) or "—"

    @admin.display(description="previous secret accepted")
    def rotation(self, obj: ShopConnection) -> str:
        from tenants import crypto

        return crypto.masked(crypto.decrypt(obj.previous_webhook_secret)) or "no"

    def save_model(self, request, obj, form, change):
        from tenants.services import shop_connection_set

        secret = form.cleaned_data.get("new_webhook_secret")
        if secret:
            saved = shop_connection_set(
                tenant=obj.tenant,
                shop_domain=obj.shop_domain,
                webhook_secret=secret,
                keep_previous_secret=form.cleaned_data.get("keep_previous_secret", False),
            )
            obj.pk = saved.pk
        else:
            obj.save(update_fields=["shop_domain", "updated_at"])

    @admin.action(description="End the secret rotation (refuse the previous secret)")
    def end_rotation(self, request, queryset):
        from tenants.services import shop_connection_rotation_end

        for connection in queryset.select_related("tenant"):
            shop_connection_rotation_end(tenant=connection.tenant)
