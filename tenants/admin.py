from django import forms
from django.contrib import admin

from tenants.models import ShopConnection


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
    new_access_token = forms.CharField(
        required=False,
        min_length=8,
        max_length=255,
        widget=forms.PasswordInput(render_value=False),
        help_text="The app's Admin API access token (scope write_products): sort orders are written back to the "
        "store. Leave empty to keep the current one.",
    )
    remove_access_token = forms.BooleanField(
        required=False, help_text="Stop writing sort orders back (the token is deleted)."
    )

    class Meta:
        model = ShopConnection
        fields = ["tenant", "shop_domain", "api_version"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not cleaned.get("new_webhook_secret"):
            self.add_error("new_webhook_secret", "A new connection needs the webhook secret.")
        return cleaned


@admin.register(ShopConnection)
class ShopConnectionAdmin(admin.ModelAdmin):
    form = ShopConnectionForm
    list_display = ["shop_domain", "tenant", "secret_shown", "rotation", "token_shown", "updated_at"]
    search_fields = ["shop_domain", "tenant__domain"]
    readonly_fields = ["secret_shown", "rotation", "token_shown", "created_at", "updated_at"]
    actions = ["end_rotation"]

    @admin.display(description="webhook secret")
    def secret_shown(self, obj: ShopConnection) -> str:
        from tenants import crypto

        return crypto.masked(crypto.decrypt(obj.webhook_secret)) or "—"

    @admin.display(description="Admin API access token")
    def token_shown(self, obj: ShopConnection) -> str:
        from tenants import crypto

        return crypto.masked(crypto.decrypt(obj.access_token)) or "— (nothing is written back)"

    @admin.display(description="previous secret accepted")
    def rotation(self, obj: ShopConnection) -> str:
        from tenants import crypto

        return crypto.masked(crypto.decrypt(obj.previous_webhook_secret)) or "no"

    def save_model(self, request, obj, form, change):
        from tenants.services import KEEP, shop_connection_set

        token = form.cleaned_data.get("new_access_token")
        saved = shop_connection_set(
            tenant=obj.tenant,
            shop_domain=obj.shop_domain,
            webhook_secret=form.cleaned_data.get("new_webhook_secret") or None,
            keep_previous_secret=form.cleaned_data.get("keep_previous_secret", False),
            access_token=None if form.cleaned_data.get("remove_access_token") else (token or KEEP),
            api_version=obj.api_version or "",
        )
        obj.pk = saved.pk

    @admin.action(description="End the secret rotation (refuse the previous secret)")
    def end_rotation(self, request, queryset):
        from tenants.services import shop_connection_rotation_end

        for connection in queryset.select_related("tenant"):
            shop_connection_rotation_end(tenant=connection.tenant)
