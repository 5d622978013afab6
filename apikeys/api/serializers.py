from __future__ import annotations

import ipaddress

from rest_framework import serializers

from apikeys.fields import StrictCharField, StrictSerializer
from apikeys.models import ApiKey
from apikeys.permissions import Permission
from apikeys.tokens import KeyKind


class ApiKeyOutputSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "kind",
            "prefix",
            "last_four",
            "permission",
            "allowed_ips",
            "expires_at",
            "rate_limit",
            "rate_limit_window",
            "status",
            "lineage_id",
            "created_at",
            "created_by",
            "created_by_key",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
            "last_used_at",
            "last_used_ip",
        ]
        read_only_fields = fields


class IssuedKeyOutputSerializer(ApiKeyOutputSerializer):
    key = serializers.CharField(read_only=True, help_text="The plaintext key. Shown once, never again.")

    class Meta(ApiKeyOutputSerializer.Meta):
        fields = [*ApiKeyOutputSerializer.Meta.fields, "key"]
        read_only_fields = fields


class _IpListField(serializers.ListField):
    child = serializers.CharField(max_length=64)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise serializers.ValidationError(f"{value!r} is not an IP address or CIDR range.") from exc
        return values


class _StrictIntegerField(serializers.IntegerField):
    """A JSON integer: no string ("10"), no fraction (10.5 or 10.0), no boolean."""

    default_error_messages = {"invalid": "Must be an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ApiKeyCreateInputSerializer(StrictSerializer):
    """A misspelt setting (``allowed_ip``, ``expires``) is refused, never ignored: ignoring it would
    issue a key without the restriction its creator asked for."""

    name = StrictCharField(max_length=100)
    permission = serializers.ChoiceField(
        choices=[p.value for p in Permission],
        default=Permission.READ,
        help_text="read, write or admin; a connector key is read (the five read actions) or write (all actions)",
    )
    kind = serializers.ChoiceField(choices=[k.value for k in KeyKind], default=KeyKind.STANDARD)
    allowed_ips = _IpListField(required=False, max_length=100, default=list)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    rate_limit = _StrictIntegerField(min_value=1, max_value=1_000_000, default=1000)
    rate_limit_window = _StrictIntegerField(min_value=1, max_value=86400, default=3600)


class ApiKeyRotateInputSerializer(StrictSerializer):
    grace_seconds = _StrictIntegerField(min_value=0, max_value=86400, default=0)


class ApiKeyRevokeInputSerializer(StrictSerializer):
    reason = StrictCharField(max_length=255, required=False, default="", allow_blank=True)


class UsageHourSerializer(serializers.Serializer):
    hour = serializers.DateTimeField()
    requests = serializers.IntegerField()
    errors_4xx = serializers.IntegerField()
    errors_5xx = serializers.IntegerField()
    throttled = serializers.IntegerField()


class RecentRequestSerializer(serializers.Serializer):
    method = serializers.CharField()
    path = serializers.CharField()
    status = serializers.IntegerField()
    ip = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()


class UsageOutputSerializer(serializers.Serializer):
    totals = serializers.DictField(child=serializers.IntegerField())
    hourly = UsageHourSerializer(many=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    last_used_ip = serializers.CharField(allow_null=True)
    recent = RecentRequestSerializer(many=True)
