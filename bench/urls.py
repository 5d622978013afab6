"""The platform's URLs plus bare Django views, the baselines of the HTTP benchmark:

- ``bench/bare/...``: the same single-row query as a surface's detail endpoint, with no
  authentication, limits or serializer (the issue's baseline);
- ``bench/same/<surface>/...``: the very queries a surface's detail endpoint runs (its selectors: one
  statement each since issue 17),
  unauthenticated, unlimited, uncounted and without DRF or the surface's serializer. Against it a
  ratio shows the cost of the platform's request stack alone, not of the body's extra tables.
"""

from django.http import Http404, JsonResponse
from django.urls import path

from catalog import selectors as catalog_selectors
from catalog.models import Product
from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as platform_urls
from merchandising import selectors as merchandising_selectors
from pricing import selectors as pricing_selectors
from tenants.models import Tenant


def bare_product(request, tenant_id: int, external_id: int):
    row = (
        Product.objects.filter(tenant_id=tenant_id, external_id=external_id)
        .values("id", "external_id", "name", "state", "updated_at")
        .first()
    )
    return JsonResponse(row or {}, status=200 if row else 404)


def _sortillus(tenant: Tenant, external_id: int) -> dict:
    product = catalog_selectors.product_get(tenant=tenant, external_id=external_id)
    return {"id": product.external_id, "recommendations": len(product.recommendation_list)}


def _shopisync(tenant: Tenant, external_id: int) -> dict:
    product = pricing_selectors.product_detail(tenant=tenant, external_id=external_id)
    changes = product.recent_changes
    return {"id": product.external_id, "competitors": len(product.competitors.all()), "changes": len(changes)}


def _dynasort(tenant: Tenant, external_id: int) -> dict:
    product = merchandising_selectors.product_detail(tenant=tenant, product_id=external_id)
    return {"id": product.external_id, "options": len(product.options.all()), "variants": len(product.variants.all())}


_TENANTS: dict[int, Tenant] = {}
SAME_QUERIES = {"sortillus": _sortillus, "shopisync": _shopisync, "dynasort": _dynasort}


def same_queries(request, surface: str, tenant_id: int, external_id: int):
    if surface not in SAME_QUERIES:
        raise Http404
    if tenant_id not in _TENANTS:  # the surfaces have the tenant from the (cached) key: no query either
        _TENANTS[tenant_id] = Tenant.objects.get(pk=tenant_id)
    tenant = _TENANTS[tenant_id]
    return JsonResponse(SAME_QUERIES[surface](tenant, external_id))


urlpatterns = [
    path("bench/bare/<int:tenant_id>/<int:external_id>", bare_product),
    path("bench/same/<str:surface>/<int:tenant_id>/<int:external_id>", same_queries),
    *platform_urls,
]
