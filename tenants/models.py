from __future__ import annotations

from django.db import models

from tenants.plans import Plan


class Tenant(models.Model):
    """A shop. Every tenant-owned row points at one; API code starts every query from it."""

    domain = models.CharField(max_length=255, unique=True, help_text="e.g. acme.myshopify.com")
    name = models.CharField(max_length=255)
    plan = models.CharField(max_length=20, choices=[(p.value, p.value) for p in Plan], default=Plan.ENTERPRISE)
    should_recommend_products = models.BooleanField(
        default=True, help_text="Sortillus guard: recommendations may be computed for this shop."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(condition=models.Q(plan__in=[p.value for p in Plan]), name="tenant_plan_valid"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def store_url(self) -> str:
        return f"https://{self.domain}"


class TenantQuerySet(models.QuerySet):
    """QuerySet of a tenant-owned model; API code starts from ``for_tenant``."""

    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        if tenant is None or getattr(tenant, "pk", None) is None:
            # Fail closed (as PostHog does): a query without a tenant is a bug, never "all rows".
            raise ValueError("for_tenant() needs a saved tenant")
        return self.filter(tenant=tenant)


class ShopConnection(models.Model):
    """How the platform hears from a tenant's Shopify store.

    Webhook deliveries name the shop in ``X-Shopify-Shop-Domain``; the connection maps that domain to the
    tenant and holds the app's webhook signing secret (and, during a rotation, the previous one), both
    stored encrypted (tenants.crypto). Secrets are never shown back in full.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="shop_connection")
    shop_domain = models.CharField(max_length=255, unique=True, help_text="e.g. acme.myshopify.com")
    webhook_secret = models.TextField(help_text="encrypted app secret that signs webhooks")
    previous_webhook_secret = models.TextField(blank=True, default="", help_text="encrypted; accepted until cleared")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(shop_domain=""), name="shop_connection_domain_not_blank"),
        ]

    def __str__(self) -> str:
        return f"Shopify connection of {self.shop_domain}"
