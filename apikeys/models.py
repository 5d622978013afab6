from __future__ import annotations

import ipaddress
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from apikeys.permissions import CONNECTOR_PERMISSIONS, Permission
from apikeys.tokens import KeyKind
from tenants.models import Tenant, TenantQuerySet


def normalise_ip_entry(entry: str) -> str:
    """An allowlist entry as it is stored and matched: an IPv4-mapped IPv6 address or range
    (``::ffff:10.1.2.3``, ``::ffff:10.0.0.0/104``) is the IPv4 one it maps (client addresses are
    compared as IPv4 too), so it matches; anything else is kept as written."""
    network = ipaddress.ip_network(str(entry), strict=False)
    mapped = network.network_address.ipv4_mapped if network.version == 6 else None
    if mapped is None or network.prefixlen < 96:
        return str(entry)
    return str(ipaddress.ip_network((mapped, network.prefixlen - 96), strict=False))


def validate_ip_allowlist(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("The IP allowlist must be a list of addresses or CIDR ranges.")
    for entry in value:
        try:
            ipaddress.ip_network(str(entry), strict=False)
        except ValueError as exc:
            raise ValidationError(f"{entry!r} is not an IP address or CIDR range.") from exc


class ApiKey(models.Model):
    """An API key of a tenant. Only the SHA-256 of the plaintext is stored.

    A connector key (``dyn_sk_``) serves the Dynasort connector only (each surface says which kinds it
    accepts: ``apikeys.surfaces``) and is ``read`` or ``write``; a shop has at most one active, whatever
    its permission (the vendor's rule). A key is active while ``revoked_at`` is empty or in the future (a rotation
    with a grace period) and ``expires_at`` is empty or in the future.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=[(k.value, k.value) for k in KeyKind], default=KeyKind.STANDARD)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False, help_text="first characters, for recognising a key")
    last_four = models.CharField(max_length=4, editable=False)
    permission = models.CharField(
        max_length=10, choices=[(p.value, p.value) for p in Permission], default=Permission.READ
    )
    allowed_ips = models.JSONField(
        default=list, blank=True, validators=[validate_ip_allowlist], help_text="addresses or CIDR ranges, v4 or v6"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    rate_limit = models.PositiveIntegerField(default=1000, help_text="requests per window")
    rate_limit_window = models.PositiveIntegerField(default=3600, help_text="window in seconds")
    lineage_id = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    rotated_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_to", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, help_text="user or key that created it")
    created_by_key = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_keys",
        editable=False,
        help_text="the key that created this one through the keys API (none: the admin or the command line)",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)
    revoke_reason = models.CharField(max_length=255, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(kind=KeyKind.CONNECTOR, revoked_at__isnull=True),
                name="one_active_connector_key_per_tenant",
            ),
            models.CheckConstraint(condition=models.Q(rate_limit__gt=0), name="apikey_rate_limit_positive"),
            models.CheckConstraint(condition=models.Q(rate_limit_window__gt=0), name="apikey_window_positive"),
            models.CheckConstraint(
                condition=models.Q(permission__in=[p.value for p in Permission]), name="apikey_permission_valid"
            ),
            # A connector key runs Dynasort actions only: ``read`` (the five read actions) or ``write`` (all).
            models.CheckConstraint(
                condition=~models.Q(kind=KeyKind.CONNECTOR)
                | models.Q(permission__in=[p.value for p in CONNECTOR_PERMISSIONS]),
                name="connector_keys_read_or_write",
                violation_error_message="A connector key's permission is read or write.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…{self.last_four})"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return not (self.expires_at is not None and self.expires_at <= now)

    @property
    def status(self) -> str:
        now = timezone.now()
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        if self.revoked_at is not None:
            return "expiring"  # rotated with a grace period
        return "active"

    def ip_allowed(self, address: str | None) -> bool:
        if not self.allowed_ips:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        # entries stored before they were normalised on write are normalised here too
        return any(ip in ipaddress.ip_network(normalise_ip_entry(net), strict=False) for net in self.allowed_ips)


class ApiKeyEvent(models.Model):
    """Append-only audit log of key events: created, rotated, revoked, updated."""

    class Type(models.TextChoices):
        CREATED = "created"
        ROTATED = "rotated"
        REVOKED = "revoked"
        UPDATED = "updated"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_key_events")
    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=10, choices=Type.choices)
    actor = models.CharField(max_length=150, blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.key.name} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        # The audit log is append-only: an existing event is never rewritten.
        if self.pk is not None:
            raise ValueError("API key events are append-only")
        super().save(*args, **kwargs)


class ApiKeyUsageHour(models.Model):
    """Requests of one key in one hour, flushed from Redis counters (absolute totals, so a flush is idempotent)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="usage_hours")
    lineage_id = models.UUIDField(db_index=True)
    hour = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    errors_4xx = models.PositiveIntegerField(default=0)
    errors_5xx = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-hour"]
        constraints = [models.UniqueConstraint(fields=["key", "hour"], name="usage_one_row_per_key_hour")]

    def __str__(self) -> str:
        # a row per key and hour: name the key when it is loaded, never a query per row
        who = self.key.name if ApiKeyUsageHour.key.is_cached(self) else f"key {self.key_id}"
        return f"{who} {self.hour:%Y-%m-%d %H}h: {self.requests}"


class IdempotencyRecord(models.Model):
    """The first request sent with one ``Idempotency-Key`` and, once it completed, its response.

    The unique ``scope`` (tenant, key lineage, method, path and the client's key, hashed) is the lock:
    a second request with the same key finds the row and is answered from it (draft-ietf-httpapi-
    idempotency-key-header). Rows older than ``IDEMPOTENCY_KEY_TTL`` are purged and no longer count.
    """

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    lineage_id = models.UUIDField()
    method = models.CharField(max_length=10)
    path = models.TextField()
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=64, help_text="SHA-256 of lineage, method, path and key")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "scope"], name="idempotency_unique_scope")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
