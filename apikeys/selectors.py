from __future__ import annotations

from django.db.models import QuerySet

from apikeys.exceptions import NotFound
from apikeys.models import ApiKey
from tenants.models import Tenant


def api_key_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    """Every key of a tenant, revoked ones included (they stay listed as an audit trail)."""
    return ApiKey.objects.for_tenant(tenant).order_by("-created_at", "-id")


def api_key_get(*, tenant: Tenant, key_id: int) -> ApiKey:
    """A key of this tenant; another tenant's key is answered exactly like a missing one."""
    key = api_key_list(tenant=tenant).filter(pk=key_id).first()
    if key is None:
        raise NotFound("API key not found")
    return key
