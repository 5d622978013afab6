"""A probe view per surface, to test the shared stack without depending on any surface's own views."""

from django.urls import include, path
from rest_framework.response import Response

from apikeys.api.views import PlatformAPIView
from apikeys.permissions import Permission
from apikeys.surfaces import CATALOG, MERCHANDISING, PRICING
from apikeys.views import SurfaceAPIView
from config import urls as real_urls


class _Probe(SurfaceAPIView):
    method_permissions = {"GET": Permission.READ, "PUT": Permission.WRITE, "DELETE": Permission.ADMIN}

    def get(self, request):
        return Response({"tenant": self.tenant.domain})

    def put(self, request):
        return Response({"tenant": self.tenant.domain, "data": request.data})

    def delete(self, request):
        return Response({"tenant": self.tenant.domain})

    def post(self, request):
        if request.data.get("action") == "probe":
            return Response({"tenant": self.tenant.domain})
        return Response({"ratio": 1 / 0})


def probe(spec, base=_Probe):
    return type(f"Probe{spec.surface}", (base,), {"surface": spec})


urlpatterns = [
    path("api/v1/", probe(MERCHANDISING).as_view()),
    path("api/v3/probe", probe(CATALOG).as_view()),
    path("api/external/v1/probe", probe(PRICING).as_view()),
    path("api/platform/v1/probe", type("PlatformProbe", (PlatformAPIView, _Probe), {}).as_view()),
    path("", include(real_urls)),
]
handler404 = real_urls.handler404
handler500 = real_urls.handler500
