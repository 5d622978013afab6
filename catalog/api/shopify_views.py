"""The Shopify store connection on the platform surface: webhook intake and the connection's settings."""

from __future__ import annotations

import io
import re

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from apikeys.api.views import PlatformAPIView
from apikeys.auth import client_ip
from apikeys.errors import json_error
from apikeys.exceptions import ApiError, BadRequest, Conflict, ErrorKind, ValidationFailed
from apikeys.fields import StrictBooleanField, StrictCharField, StrictSerializer
from apikeys.parsers import StrictJSONParser
from apikeys.permissions import Permission
from apikeys.ratelimit import Limit, limiter
from apikeys.surfaces import PLATFORM
from catalog import webhooks
from tenants import crypto
from tenants import services as tenant_services
from tenants.models import ShopConnection

_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$")


def _refuse(exc: BaseException) -> JsonResponse:
    return json_error(PLATFORM, exc)


def _unauthorized(request: HttpRequest) -> JsonResponse:
    """401 for an unknown shop or a bad signature, counted per client address like failed key logins."""
    limit, window = settings.AUTH_FAILURE_RATE_LIMIT
    decision = limiter.hit([Limit(f"authfail:{client_ip(request.META) or 'unknown'}", limit, window)])
    if not decision.allowed:
        return _refuse(
            ApiError(ErrorKind.RATE_LIMITED, "Too many failed webhook signatures", retry_after=decision.retry_after)
        )
    return _refuse(
        ApiError(ErrorKind.UNAUTHORIZED, "Webhook signature does not verify for this shop", code="INVALID_SIGNATURE")
    )


@method_decorator(csrf_exempt, name="dispatch")
class ShopifyWebhookView(View):
    """POST /api/platform/v1/shopify/webhooks: one Shopify webhook delivery.

    Not an API-key view: Shopify signs the body instead. Nothing of the body is parsed before its HMAC
    verifies; the delivery is stored once per event id and processed by a task (catalog.webhooks), so the
    answer comes in milliseconds.
    """

    http_method_names = ["post"]

    def http_method_not_allowed(self, request, *args, **kwargs) -> JsonResponse:
        return _refuse(ApiError(ErrorKind.METHOD_NOT_ALLOWED, f'Method "{request.method}" not allowed.'))

    def post(self, request: HttpRequest) -> JsonResponse:
        return _webhook(request)


def _webhook(request: HttpRequest) -> JsonResponse:
    domain = (request.headers.get("X-Shopify-Shop-Domain") or "").strip().lower()
    connection = (
        ShopConnection.objects.select_related("tenant").filter(shop_domain=domain).first()
        if _SHOP_DOMAIN.match(domain)
        else None
    )
    body = request.body
    secrets = tenant_services.shop_connection_secrets(connection) if connection is not None else []
    if not webhooks.signature_valid(body, request.headers.get("X-Shopify-Hmac-Sha256"), secrets):
        return _unauthorized(request)
    topic = (request.headers.get("X-Shopify-Topic") or "").strip()
    event_id = (request.headers.get("X-Shopify-Event-Id") or request.headers.get("X-Shopify-Webhook-Id") or "").strip()
    if not topic or len(topic) > 100 or not event_id or len(event_id) > 100:
        return _refuse(BadRequest("X-Shopify-Topic and X-Shopify-Event-Id are required (at most 100 characters)"))
    triggered_header = (request.headers.get("X-Shopify-Triggered-At") or "").strip()
    try:
        triggered_at = parse_datetime(triggered_header) if triggered_header else None
    except ValueError:
        triggered_at = None
    if triggered_header and (triggered_at is None or triggered_at.tzinfo is None):
        return _refuse(BadRequest("X-Shopify-Triggered-At is not an ISO 8601 time with a zone"))
    try:
        payload = StrictJSONParser().parse(io.BytesIO(body), parser_context={"encoding": "utf-8"})
    except ParseError as exc:
        return _refuse(exc)
    delivery, created = webhooks.delivery_accept(
        tenant=connection.tenant, event_id=event_id, topic=topic, triggered_at=triggered_at, payload=payload
    )
    return JsonResponse({"status": "accepted" if created else "duplicate", "event_id": delivery.event_id})


_API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


class ShopConnectionInputSerializer(StrictSerializer):
    shop_domain = StrictCharField(max_length=255)
    webhook_secret = StrictCharField(
        min_length=8, max_length=255, write_only=True, required=False, help_text="required for a new connection"
    )
    keep_previous_secret = StrictBooleanField(required=False, default=False)
    access_token = StrictCharField(
        min_length=8,
        max_length=255,
        write_only=True,
        required=False,
        allow_null=True,
        help_text="Admin API access token (write_products) for writing sort orders back; left out: kept; "
        "null: removed (nothing is written back)",
    )
    api_version = StrictCharField(
        max_length=10, required=False, allow_blank=True, help_text="Admin API version (YYYY-MM); empty: the default"
    )

    def validate_shop_domain(self, value: str) -> str:
        value = value.strip().lower()
        if not _SHOP_DOMAIN.match(value):
            raise serializers.ValidationError("The shop's myshopify.com domain is required, e.g. acme.myshopify.com.")
        return value

    def validate_access_token(self, value: str | None) -> str | None:
        if value is not None and (not value.isprintable() or any(c.isspace() for c in value)):
            raise serializers.ValidationError("The access token has no spaces or control characters.")
        return value

    def validate_api_version(self, value: str) -> str:
        if value and not _API_VERSION.match(value):
            raise serializers.ValidationError("An Admin API version is YYYY-01, -04, -07 or -10, or unstable.")
        return value


class ShopConnectionOutputSerializer(serializers.Serializer):
    shop_domain = serializers.CharField()
    webhook_url = serializers.CharField()
    webhook_secret = serializers.CharField(help_text="the last four characters only")
    previous_webhook_secret = serializers.CharField(allow_null=True, help_text="accepted too until rotation ends")
    topics = serializers.ListField(child=serializers.CharField())
    has_access_token = serializers.BooleanField(help_text="sort orders are written back to the store")
    access_token = serializers.CharField(allow_null=True, help_text="the last four characters only")
    api_version = serializers.CharField(help_text="the Admin API version used for writing back")


def _shown(request, connection: ShopConnection) -> dict:
    token = tenant_services.shop_connection_access_token(connection)
    return ShopConnectionOutputSerializer(
        {
            "shop_domain": connection.shop_domain,
            "webhook_url": request.build_absolute_uri("/api/platform/v1/shopify/webhooks"),
            "webhook_secret": crypto.masked(crypto.decrypt(connection.webhook_secret)),
            "previous_webhook_secret": crypto.masked(crypto.decrypt(connection.previous_webhook_secret)),
            "topics": sorted(webhooks.HANDLERS),
            "has_access_token": bool(token),
            "access_token": crypto.masked(token),
            "api_version": connection.effective_api_version,
        }
    ).data


class ShopConnectionView(PlatformAPIView):
    method_permissions = {"GET": Permission.ADMIN, "PUT": Permission.ADMIN, "DELETE": Permission.ADMIN}

    def _connection(self) -> ShopConnection:
        connection = ShopConnection.objects.filter(tenant=self.tenant).first()
        if connection is None:
            raise ApiError(ErrorKind.NOT_FOUND, "No Shopify store is connected")
        return connection

    @extend_schema(operation_id="shopify_connection_get", responses={200: ShopConnectionOutputSerializer})
    def get(self, request):
        return Response(_shown(request, self._connection()))

    @extend_schema(
        operation_id="shopify_connection_set",
        request=ShopConnectionInputSerializer,
        responses={200: ShopConnectionOutputSerializer, 409: OpenApiResponse(description="domain of another shop")},
        description="Connect the shop's Shopify store (or rotate its webhook secret with keep_previous_secret); "
        "with an Admin API access_token, sort results are written back to the store. Fields left out of an "
        "existing connection keep their values.",
    )
    def put(self, request):
        params = ShopConnectionInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            connection = tenant_services.shop_connection_set(tenant=self.tenant, **params.validated_data)
        except DjangoValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {}
            if "shop_domain" in errors:
                raise Conflict("This Shopify domain is connected to another shop") from exc
            shown = {k: list(v) for k, v in errors.items()} or {"non_field_errors": exc.messages}
            raise ValidationFailed("Invalid connection", errors=shown) from exc
        return Response(_shown(request, connection))

    @extend_schema(
        operation_id="shopify_connection_delete",
        responses={204: None},
        description="Disconnect the store (idempotent: 204 whether or not one was connected).",
    )
    def delete(self, request):
        tenant_services.shop_connection_delete(tenant=self.tenant)
        return Response(status=204)


class ShopConnectionRotationEndView(PlatformAPIView):
    method_permissions = {"POST": Permission.ADMIN}

    @extend_schema(
        operation_id="shopify_connection_rotation_end", request=None, responses={200: ShopConnectionOutputSerializer}
    )
    def post(self, request):
        connection = tenant_services.shop_connection_rotation_end(tenant=self.tenant)
        if connection is None:
            raise ApiError(ErrorKind.NOT_FOUND, "No Shopify store is connected")
        return Response(_shown(request, connection))
