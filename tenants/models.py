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
    stored encrypted (tenants.crypto). The Admin API access token (encrypted too) lets the platform write
    sort results back to the store. Secrets are never shown back in full.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="shop_connection")
    shop_domain = models.CharField(max_length=255, unique=True, help_text="e.g. acme.myshopify.com")
    webhook_secret = models.TextField(help_text="encrypted app secret that signs webhooks")
    previous_webhook_secret = models.TextField(blank=True, default="", help_text="encrypted; accepted until cleared")
    # Writing sort results back to the store (merchandising.store_writeback) needs the app's Admin API access
    # token; empty means "not configured": nothing is sent and nothing fails.
    access_token = models.TextField(blank=True, default="", help_text="encrypted Admin API access token")
    api_version = models.CharField(
        max_length=10, blank=True, default="", help_text="Admin API version, e.g. 2026-07; empty: SHOPIFY_API_VERSION"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(shop_domain=""), name="shop_connection_domain_not_blank"),
            models.CheckConstraint(
                condition=models.Q(api_version="") | models.Q(api_version__regex=r"^(\d{4}-\d{2}|unstable)$"),
                name="shop_connection_api_version_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Shopify connection of {self.shop_domain}"

    @property
    def effective_api_version(self) -> str:
        from django.conf import settings

        return self.api_version or settings.SHOPIFY_API_VERSION
