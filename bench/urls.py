"""The platform's URLs plus a bare Django view doing the same single-row query as a surface's detail
endpoint, with no authentication, limits or serializer: the baseline of the HTTP benchmark."""

from django.http import JsonResponse
from django.urls import path

from catalog.models import Product
from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as platform_urls


def bare_product(request, tenant_id: int, external_id: int):
    row = (
        Product.objects.filter(tenant_id=tenant_id, external_id=external_id)
        .values("id", "external_id", "name", "state", "updated_at")
        .first()
    )
    return JsonResponse(row or {}, status=200 if row else 404)


urlpatterns = [path("bench/bare/<int:tenant_id>/<int:external_id>", bare_product), *platform_urls]
