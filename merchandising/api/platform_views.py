"""The merchandising part of the platform surface: collection sync and the connector prompt."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.api.results import BulkResultSerializer, bulk_result, echoed_id, field_errors
from apikeys.api.views import PlatformAPIView
from merchandising import prompt, services
from merchandising.api.serializers import (
    CollectionSyncInput,
    CollectionSyncItem,
    PromptOutput,
    ToolsExportOutput,
    ToolsExportParams,
)
from merchandising.assistant import tools

_STATUS = {"created": "created", "updated": "updated", "error": "rejected"}  # services.SyncResult's words


class CollectionSyncView(PlatformAPIView):
    """``PUT /api/platform/v1/collections``: upsert up to 1000 collections, answering per item."""

    @extend_schema(operation_id="collections_sync", request=CollectionSyncInput, responses=BulkResultSerializer)
    def put(self, request: Request) -> Response:
        envelope = CollectionSyncInput(data=request.data)
        envelope.is_valid(raise_exception=True)
        valid, results = [], []
        for index, raw in enumerate(envelope.validated_data["collections"]):
            item = CollectionSyncItem(data=raw)
            if item.is_valid():
                valid.append((index, item.validated_data))
            else:
                results.append((index, echoed_id(raw), "rejected", field_errors(item.errors)))
        applied = services.collections_sync(tenant=self.tenant, items=[v for _, v in valid])
        results += [(index, r.id, _STATUS[r.status], r.errors) for (index, _), r in zip(valid, applied, strict=True)]
        return Response(bulk_result(results))


class ConnectorPromptView(PlatformAPIView):
    """``GET /api/platform/v1/connector/prompt``: the Dynasort system prompt of this shop."""

    @extend_schema(operation_id="connector_prompt", responses=PromptOutput)
    def get(self, request: Request) -> Response:
        base_url = request.build_absolute_uri("/").rstrip("/")
        text = prompt.build_prompt(tenant=self.tenant, base_url=base_url)
        return Response({"prompt": text, "endpoint": base_url + prompt.API_PATH, "store_url": self.tenant.store_url})


class _JsonOnly(DefaultContentNegotiation):
    """Always JSON: ``?format=`` names the export here, not a DRF renderer (URL_FORMAT_OVERRIDE)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ConnectorToolsView(PlatformAPIView):
    """``GET /api/platform/v1/connector/tools?format=openai|anthropic``: the 16 Dynasort actions as
    function-calling tools, generated from the action registry like the MCP server's."""

    content_negotiation_class = _JsonOnly

    @extend_schema(operation_id="connector_tools", parameters=[ToolsExportParams], responses=ToolsExportOutput)
    def get(self, request: Request) -> Response:
        params = ToolsExportParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        fmt = params.validated_data["format"]
        return Response(
            {"format": fmt, "endpoint": request.build_absolute_uri(prompt.API_PATH), "tools": tools.EXPORTS[fmt]()}
        )
