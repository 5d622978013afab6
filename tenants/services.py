from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.models import ShopConnection, Tenant
from tenants.plans import Plan
from tenants.signals import tenant_created


@transaction.atomic
def tenant_create(
    *, domain: str, name: str, plan: str = Plan.ENTERPRISE, should_recommend_products: bool = True
) -> Tenant:
    """Create a tenant and let the apps add their per-tenant defaults (e.g. starter recipes)."""
    tenant = Tenant(
        domain=domain.strip().lower(), name=name, plan=Plan(plan), should_recommend_products=should_recommend_products
    )
    tenant.full_clean()
    tenant.save()
    tenant_created.send(sender=Tenant, tenant=tenant)
    return tenant


# "leave as it is" for optional arguments where None means "remove"
KEEP = object()


@transaction.atomic
def shop_connection_set(
    *,
    tenant: Tenant,
    shop_domain: str,
    webhook_secret: str | None = None,
    keep_previous_secret: bool = False,
    access_token: str | object | None = KEEP,
    api_version: str | None = None,
) -> ShopConnection:
    """Connect (or re-connect) the tenant's Shopify store: its domain, the app secret that signs webhooks and,
    for writing sort results back, the Admin API access token and version.

    With ``keep_previous_secret`` the secret in use so far stays accepted beside the new one (a rotation:
    Shopify signs with the new secret soon, but deliveries retried from before still carry the old
    signature); ``shop_connection_rotation_end`` drops it. A ``webhook_secret`` of None keeps the current one
    (a new connection needs one); an ``access_token`` left out keeps the current one, None or "" removes it
    (nothing is written back then); an ``api_version`` of None keeps the current one, "" means the default.
    """
    from tenants import crypto

    domain = shop_domain.strip().lower()
    connection = ShopConnection.objects.select_for_update().filter(tenant=tenant).first()
    if connection is None:
        if not webhook_secret:
            raise ValidationError({"webhook_secret": ["A new connection needs the webhook secret."]})
        connection = ShopConnection(tenant=tenant)
    if webhook_secret:
        connection.previous_webhook_secret = connection.webhook_secret if keep_previous_secret else ""
        connection.webhook_secret = crypto.encrypt(webhook_secret)
    connection.shop_domain = domain
    if access_token is not KEEP:
        connection.access_token = crypto.encrypt(access_token) if access_token else ""
    if api_version is not None:
        connection.api_version = api_version.strip()
    connection.full_clean(exclude=["tenant"])
    connection.save()
    return connection


def shop_connection_access_token(connection: ShopConnection) -> str | None:
    """The Admin API access token, decrypted; None when none is set (or no configured key opens it)."""
    from tenants import crypto

    return crypto.decrypt(connection.access_token)


@transaction.atomic
def shop_connection_rotation_end(*, tenant: Tenant) -> ShopConnection | None:
    """Stop accepting the previous webhook secret."""
    connection = ShopConnection.objects.select_for_update().filter(tenant=tenant).first()
    if connection is not None and connection.previous_webhook_secret:
        connection.previous_webhook_secret = ""
        connection.save(update_fields=["previous_webhook_secret", "updated_at"])
    return connection


def shop_connection_delete(*, tenant: Tenant) -> bool:
    """Disconnect the store: its webhooks are refused from now on."""
    deleted, _ = ShopConnection.objects.filter(tenant=tenant).delete()
    return bool(deleted)


def shop_connection_secrets(connection: ShopConnection) -> list[str]:
    """The webhook secrets accepted now (current first), decrypted."""
    from tenants import crypto

    secrets = [crypto.decrypt(connection.webhook_secret), crypto.decrypt(connection.previous_webhook_secret)]
    return [s for s in secrets if s]
