from __future__ import annotations

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


@transaction.atomic
def shop_connection_set(
    *, tenant: Tenant, shop_domain: str, webhook_secret: str, keep_previous_secret: bool = False
) -> ShopConnection:
    """Connect (or re-connect) the tenant's Shopify store: its domain and the app secret that signs webhooks.

    With ``keep_previous_secret`` the secret in use so far stays accepted beside the new one (a rotation:
    Shopify signs with the new secret soon, but deliveries retried from before still carry the old
    signature); ``shop_connection_rotation_end`` drops it.
    """
    from tenants import crypto

    domain = shop_domain.strip().lower()
    connection = ShopConnection.objects.select_for_update().filter(tenant=tenant).first()
    previous = ""
    if connection is not None and keep_previous_secret:
        previous = connection.webhook_secret
    if connection is None:
        connection = ShopConnection(tenant=tenant)
    connection.shop_domain = domain
    connection.webhook_secret = crypto.encrypt(webhook_secret)
    connection.previous_webhook_secret = previous
    connection.full_clean(exclude=["tenant"])
    connection.save()
    return connection


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
