from django import forms

from apikeys.models import ApiKey
from apikeys.permissions import CONNECTOR_PERMISSIONS
from apikeys.tokens import KeyKind


class ApiKeyCreateForm(forms.ModelForm):
    """The admin's create form: settings only; the secret is generated and shown once."""

    class Meta:
        model = ApiKey
        fields = [
            "tenant",
            "name",
            "kind",
            "permission",
            "allowed_ips",
            "expires_at",
            "rate_limit",
            "rate_limit_window",
        ]

    def clean(self):
        data = super().clean()
        if data.get("kind") == KeyKind.CONNECTOR:
            if data.get("permission") not in CONNECTOR_PERMISSIONS:
                self.add_error("permission", "A connector key is read (recommended first) or write.")
            tenant = data.get("tenant")
            if (
                tenant
                and ApiKey.objects.for_tenant(tenant).filter(kind=KeyKind.CONNECTOR, revoked_at__isnull=True).exists()
            ):
                raise forms.ValidationError("This shop has an active connector key already; revoke it first.")
        return data
