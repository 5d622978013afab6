"""The Dynasort surface: one endpoint. config.urls mounts this under "api/v1" (no trailing
slash), so both "/api/v1/" and "/api/v1" reach it."""

from django.urls import path

from merchandising.api.views import ConnectorNoSlashView, ConnectorView

urlpatterns = [
    path("/", ConnectorView.as_view(), name="dynasort-connector"),
    path("", ConnectorNoSlashView.as_view(), name="dynasort-connector-noslash"),
]
