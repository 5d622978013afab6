"""Merchandising routes on the platform surface (mounted under /api/platform/v1/)."""

from django.urls import path

from merchandising.api.platform_views import CollectionSyncView, ConnectorPromptView, ConnectorToolsView

urlpatterns = [
    path("collections", CollectionSyncView.as_view(), name="platform-collections"),
    path("connector/prompt", ConnectorPromptView.as_view(), name="platform-connector-prompt"),
    path("connector/tools", ConnectorToolsView.as_view(), name="platform-connector-tools"),
]
