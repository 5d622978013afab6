"""Key management on the platform surface: ``sk_live_`` admin keys only (the platform surface refuses
connector keys, so a key pasted into an assistant can never mint keys that outlive it)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apikeys import selectors, services
from apikeys.api.serializers import (
    ApiKeyCreateInputSerializer,
    ApiKeyOutputSerializer,
    ApiKeyRevokeInputSerializer,
    ApiKeyRotateInputSerializer,
    IssuedKeyOutputSerializer,
    UsageOutputSerializer,
)
from apikeys.permissions import Permission
from apikeys.surfaces import PLATFORM
from apikeys.views import SurfaceAPIView


class ApiKeyListOutputSerializer(serializers.Serializer):
    keys = ApiKeyOutputSerializer(many=True)


# The body comes from the surface (apikeys.schema); only the code and its meaning are declared here.
CONFLICT = {409: OpenApiResponse(description="A second active connector key, or a key that cannot be rotated")}


def _issued(issued: services.IssuedKey) -> dict:
    data = ApiKeyOutputSerializer(issued.key).data
    data["key"] = issued.plaintext
    return data


class PlatformAPIView(SurfaceAPIView):
    surface = PLATFORM


class KeyAdminView(PlatformAPIView):
    method_permissions = {"GET": Permission.ADMIN, "POST": Permission.ADMIN}

    @property
    def actor(self) -> str:
        key = self.request.api_key
        return f"key:{key.prefix}…{key.last_four}"


class KeyListCreateView(KeyAdminView):
    @extend_schema(responses=ApiKeyListOutputSerializer, operation_id="keys_list")
    def get(self, request):
        keys = selectors.api_key_list(tenant=self.tenant)[:1000]
        return Response({"keys": ApiKeyOutputSerializer(keys, many=True).data})

    @extend_schema(request=ApiKeyCreateInputSerializer, responses={201: IssuedKeyOutputSerializer, **CONFLICT})
    def post(self, request):
        params = ApiKeyCreateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        issued = services.api_key_create(
            tenant=self.tenant, actor=self.actor, created_by_key=request.api_key, **params.validated_data
        )
        return Response(_issued(issued), status=201)


class KeyRotateView(KeyAdminView):
    @extend_schema(request=ApiKeyRotateInputSerializer, responses={201: IssuedKeyOutputSerializer, **CONFLICT})
    def post(self, request, key_id: int):
        params = ApiKeyRotateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        key = selectors.api_key_get(tenant=self.tenant, key_id=key_id)
        issued = services.api_key_rotate(
            key=key, actor=self.actor, created_by_key=request.api_key, **params.validated_data
        )
        return Response(_issued(issued), status=201)


class KeyRevokeView(KeyAdminView):
    @extend_schema(request=ApiKeyRevokeInputSerializer, responses=ApiKeyOutputSerializer)
    def post(self, request, key_id: int):
        params = ApiKeyRevokeInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        key = selectors.api_key_get(tenant=self.tenant, key_id=key_id)
        key = services.api_key_revoke(key=key, actor=self.actor, reason=params.validated_data["reason"])
        return Response(ApiKeyOutputSerializer(key).data)


class KeyUsageView(KeyAdminView):
    @extend_schema(responses=UsageOutputSerializer)
    def get(self, request, key_id: int):
        key = selectors.api_key_get(tenant=self.tenant, key_id=key_id)
        return Response(UsageOutputSerializer(services.usage_summary(key=key)).data)
