"""Template tags of the admin index: links to each shop's overview."""

from __future__ import annotations

from django import template

from tenants.models import Tenant

register = template.Library()

SHOPS_ON_INDEX = 10


@register.simple_tag(takes_context=True)
def shop_links(context) -> dict:
    """The first shops by domain (one query; a second counts them only when there are more)."""
    request = context.get("request")
    if request is None or not request.user.has_perm("tenants.view_tenant"):
        return {"rows": [], "more": False, "count": 0}
    rows = list(Tenant.objects.order_by("domain").only("pk", "domain")[: SHOPS_ON_INDEX + 1])
    more = len(rows) > SHOPS_ON_INDEX
    return {"rows": rows[:SHOPS_ON_INDEX], "more": more, "count": Tenant.objects.count() if more else len(rows)}
