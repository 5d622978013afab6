import ipaddress

from django import forms

from apikeys.models import ApiKey
from apikeys.permissions import CONNECTOR_PERMISSIONS
from apikeys.services import MAX_GRACE
from apikeys.tokens import KeyKind
from core.admin_display import LinesField

MAX_GRACE_SECONDS = int(MAX_GRACE.total_seconds())


def _network(line: str) -> str:
    """One allowlist entry: an address or a CIDR range, v4 or v6, written back in its normal form."""
    try:
        network = ipaddress.ip_network(line, strict=False)
    except ValueError as exc:
        raise forms.ValidationError(f"{line!r} is not an IP address or CIDR range.") from exc
    return str(network.network_address) if network.num_addresses == 1 and "/" not in line else str(network)


class IpAllowlistField(LinesField):
    """The key's ``allowed_ips`` JSON list edited as one address or CIDR range per line."""

    def __init__(self, **kwargs) -> None:
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.pop("max_length", None)
        kwargs["help_text"] = "one address or CIDR range per line (v4 or v6), e.g. 203.0.113.0/24; empty: any address"
        super().__init__(item=_network, **kwargs)


class RotateForm(forms.Form):
    """The admin's rotate step: how long the old key keeps working beside the new one."""

    grace_seconds = forms.IntegerField(
        min_value=0,
        max_value=MAX_GRACE_SECONDS,
        initial=3600,
        label="Grace period (seconds)",
        help_text="the old key keeps working this long (0: stops at once; at most 86400 = 24 hours)",
    )


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
