"""URLs: four API surfaces, their OpenAPI documents, the admin and the probes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import handlers
from config.health import healthz, readyz
from config.views import home

# One list per surface, so each surface has an OpenAPI document of its own.
SURFACE_PATTERNS = {
    "merchandising": [path("api/v1", include("merchandising.api.urls"))],
    "catalog": [path("api/v3/", include("catalog.api.urls"))],
    "pricing": [path("api/external/v1/", include("pricing.api.urls"))],
    "platform": [
        path("api/platform/v1/", include("apikeys.api.urls")),
        path("api/platform/v1/", include("catalog.api.platform_urls")),
        path("api/platform/v1/", include("merchandising.api.platform_urls")),
        path("api/platform/v1/", include("pricing.api.platform_urls")),
    ],
}

REDOC_TEMPLATE = "docs/redoc.html"  # ReDoc without web fonts from a CDN
_schema_views = []
for _name, _patterns in SURFACE_PATTERNS.items():
    _schema_views += [
        path(
            f"api/schema/{_name}/",
            SpectacularAPIView.as_view(urlconf=_patterns, custom_settings={"TITLE": f"{_name.title()} API"}),
            name=f"schema-{_name}",
        ),
        path(f"api/docs/{_name}/", SpectacularSwaggerView.as_view(url_name=f"schema-{_name}"), name=f"docs-{_name}"),
        path(
            f"api/redoc/{_name}/",
            SpectacularRedocView.as_view(url_name=f"schema-{_name}", template_name=REDOC_TEMPLATE),
            name=f"redoc-{_name}",
        ),
    ]

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("readyz", readyz),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *_schema_views,
    *[p for patterns in SURFACE_PATTERNS.values() for p in patterns],
]

handler400 = handlers.bad_request
handler404 = handlers.not_found
handler500 = handlers.server_error
