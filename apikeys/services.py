"""Writes on API keys: create, rotate, revoke, update, and the usage flush."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from apikeys import tokens, usage
from apikeys.exceptions import Conflict, ValidationFailed
from apikeys.models import ApiKey, ApiKeyEvent, ApiKeyUsageHour, normalise_ip_entry
from apikeys.permissions import CONNECTOR_PERMISSIONS, Permission
from apikeys.tokens import KeyKind
from tenants.models import Tenant

MAX_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class IssuedKey:
    """A key just made, with its plaintext: the only time the plaintext exists outside the client."""

    key: ApiKey
    plaintext: str


def _event(key: ApiKey, type_: str, actor: str, **details: Any) -> None:
    ApiKeyEvent.objects.create(tenant_id=key.tenant_id, key=key, type=type_, actor=actor, details=details)


def _validate(key: ApiKey) -> None:
    try:
        key.full_clean(exclude=["key_hash", "prefix", "last_four", "tenant"])
    except ValidationError as exc:
        raise ValidationFailed("Invalid API key settings", errors=exc.message_dict) from exc
    # IPv4-mapped entries (::ffff:10.1.2.3) are stored as the IPv4 address they map, so they match
    key.allowed_ips = [normalise_ip_entry(entry) for entry in key.allowed_ips]


@transaction.atomic
def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    permission: str = Permission.READ,
    kind: str = KeyKind.STANDARD,
    allowed_ips: list[str] | None = None,
    expires_at: datetime | None = None,
    rate_limit: int = 1000,
    rate_limit_window: int = 3600,
    actor: str = "",
    created_by_key: ApiKey | None = None,
    seed: bytes | None = None,
) -> IssuedKey:
    """Issue a new key. A connector key is ``read`` or ``write`` (what it may do with the Dynasort
    actions), and a shop has at most one active, whatever its permission. ``created_by_key`` is the key
    that asked (keys API), listed when that key is revoked."""
    kind = KeyKind(kind)
    if kind == KeyKind.CONNECTOR:
        if permission not in CONNECTOR_PERMISSIONS:
            raise ValidationFailed(
                "Invalid API key settings",
                errors={"permission": ["A connector key is read or write (admin is for sk_live_ keys)."]},
            )
        if ApiKey.objects.for_tenant(tenant).filter(kind=KeyKind.CONNECTOR, revoked_at__isnull=True).exists():
            raise Conflict("This shop has an active connector key already; revoke it first.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("Invalid API key settings", errors={"expires_at": ["must be in the future"]})
    plaintext = tokens.generate(kind, seed=seed)
    prefix, last_four = tokens.display_parts(plaintext)
    key = ApiKey(
        tenant=tenant,
        name=name,
        kind=kind,
        permission=Permission(permission),
        allowed_ips=list(allowed_ips or []),
        expires_at=expires_at,
        rate_limit=rate_limit,
        rate_limit_window=rate_limit_window,
        key_hash=tokens.digest(plaintext),
        prefix=prefix,
        last_four=last_four,
        created_by=actor,
        created_by_key=created_by_key,
    )
    _validate(key)
    try:
        with transaction.atomic():
            key.save()
    except IntegrityError as exc:  # a concurrent create of a second connector key
        raise Conflict("This shop has an active connector key already; revoke it first.") from exc
    _event(key, ApiKeyEvent.Type.CREATED, actor, permission=key.permission, kind=key.kind)
    return IssuedKey(key=key, plaintext=plaintext)


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: str = "", reason: str = "", at: datetime | None = None) -> ApiKey:
    """Revoke a key now (or at ``at``, for a rotation grace period). Revoking twice changes nothing.

    The audit entry lists the keys this key created (keys API), with their state now, so whoever
    revokes a leaked key sees what else to revoke; they are not revoked with it (they may be in use).
    """
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    when = at or now
    if key.revoked_at is not None and key.revoked_at <= max(now, when):
        return key
    key.revoked_at = when
    key.revoked_by = actor
    key.revoke_reason = reason[:255]
    key.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    created = [
        {"id": k.pk, "key": f"{k.prefix}…{k.last_four}", "name": k.name, "permission": k.permission, "status": k.status}
        for k in ApiKey.objects.filter(created_by_key=key).order_by("id")
    ]
    _event(key, ApiKeyEvent.Type.REVOKED, actor, reason=reason, effective_at=when.isoformat(), created_keys=created)
    return key


@transaction.atomic
def api_key_rotate(
    *, key: ApiKey, actor: str = "", grace_seconds: int = 0, created_by_key: ApiKey | None = None
) -> IssuedKey:
    """Revoke ``key`` (at once, or after a grace period of at most 24 hours) and issue a new key with
    the same settings and lineage, so usage history continues. ``created_by_key``: as in create."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if not key.is_active() or (key.revoked_at is not None):
        raise Conflict("Only an active key that is not already being rotated can be rotated.")
    grace = timedelta(seconds=grace_seconds)
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise ValidationFailed("Invalid rotation", errors={"grace_seconds": ["must be between 0 and 86400"]})
    api_key_revoke(key=key, actor=actor, reason="rotated", at=timezone.now() + grace)
    plaintext = tokens.generate(KeyKind(key.kind))
    prefix, last_four = tokens.display_parts(plaintext)
    new = ApiKey.objects.create(
        tenant_id=key.tenant_id,
        name=key.name,
        kind=key.kind,
        permission=key.permission,
        allowed_ips=key.allowed_ips,
        expires_at=key.expires_at,
        rate_limit=key.rate_limit,
        rate_limit_window=key.rate_limit_window,
        lineage_id=key.lineage_id,
        rotated_from=key,
        key_hash=tokens.digest(plaintext),
        prefix=prefix,
        last_four=last_four,
        created_by=actor,
        created_by_key=created_by_key,
    )
    _event(key, ApiKeyEvent.Type.ROTATED, actor, new_key_id=new.pk, grace_seconds=grace_seconds)
    _event(new, ApiKeyEvent.Type.CREATED, actor, rotated_from=key.pk)
    return IssuedKey(key=new, plaintext=plaintext)


_UPDATABLE = {"name", "permission", "allowed_ips", "expires_at", "rate_limit", "rate_limit_window"}


@transaction.atomic
def api_key_update(*, key: ApiKey, actor: str = "", **changes: Any) -> ApiKey:
    """Change a key's settings (not its secret). A connector key stays ``read`` or ``write``."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValidationFailed("Unknown fields", errors={f: ["cannot be changed"] for f in sorted(unknown)})
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    before = {f: getattr(key, f) for f in changes}
    for field, value in changes.items():
        setattr(key, field, value)
    _validate(key)
    key.save(update_fields=list(changes))
    diff = {f: [str(before[f]), str(getattr(key, f))] for f in changes if before[f] != getattr(key, f)}
    if diff:
        _event(key, ApiKeyEvent.Type.UPDATED, actor, changes=diff)
    return key


def usage_flush(*, key_ids: set[int] | None = None) -> int:
    """Write pending usage counters to hourly rows (absolute totals: running twice is harmless).

    Returns the number of hour rows written.
    """
    rows = usage.pending(key_ids)
    if not rows:
        return 0
    keys = {k.pk: k for k in ApiKey.objects.filter(pk__in={r[0] for r in rows}).only("pk", "tenant_id", "lineage_id")}
    merged: dict[tuple[int, int], dict[str, str]] = {}
    for key_id, hour, values in rows:
        if key_id in keys:
            current = merged.setdefault((key_id, hour), {})
            for field, value in values.items():  # Redis and this process's memory may both hold counts
                if field in ("last_at", "last_ip"):
                    if float(values.get("last_at", 0)) >= float(current.get("last_at", 0)):
                        current[field] = value
                else:
                    current[field] = str(int(current.get(field, 0)) + int(value))
    objs = [
        ApiKeyUsageHour(
            tenant_id=keys[key_id].tenant_id,
            key_id=key_id,
            lineage_id=keys[key_id].lineage_id,
            hour=datetime.fromtimestamp(hour, UTC),
            requests=int(v.get("requests", 0)),
            errors_4xx=int(v.get("errors_4xx", 0)),
            errors_5xx=int(v.get("errors_5xx", 0)),
            throttled=int(v.get("throttled", 0)),
        )
        for (key_id, hour), v in merged.items()
    ]
    last_used: dict[int, tuple[float, str]] = {}
    for (key_id, _hour), v in merged.items():
        at = float(v.get("last_at", 0))
        if at and at > last_used.get(key_id, (0.0, ""))[0]:
            last_used[key_id] = (at, v.get("last_ip", ""))
    with transaction.atomic():
        ApiKeyUsageHour.objects.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=["key", "hour"],
            update_fields=["requests", "errors_4xx", "errors_5xx", "throttled"],
        )
        for key_id, (at, ip) in last_used.items():
            when = datetime.fromtimestamp(at, UTC)
            ApiKey.objects.filter(pk=key_id).exclude(last_used_at__gte=when).update(
                last_used_at=when, last_used_ip=ip or None
            )
    usage.mark_final(list(merged))
    return len(objs)


def usage_summary(*, key: ApiKey, hours: int = 24 * 7) -> dict[str, Any]:
    """Usage of a key's whole lineage (it continues across rotations): totals, per hour, recent requests."""
    lineage = list(ApiKey.objects.filter(lineage_id=key.lineage_id).values_list("pk", flat=True))
    usage_flush(key_ids=set(lineage))
    rows = ApiKeyUsageHour.objects.filter(lineage_id=key.lineage_id)
    totals = rows.aggregate(
        requests=Sum("requests"), errors_4xx=Sum("errors_4xx"), errors_5xx=Sum("errors_5xx"), throttled=Sum("throttled")
    )
    since = timezone.now() - timedelta(hours=hours)
    series = (
        rows.filter(hour__gte=since)
        .values("hour")
        .annotate(
            requests=Sum("requests"),
            errors_4xx=Sum("errors_4xx"),
            errors_5xx=Sum("errors_5xx"),
            throttled=Sum("throttled"),
        )
        .order_by("hour")
    )
    last = ApiKey.objects.filter(lineage_id=key.lineage_id).order_by(F("last_used_at").desc(nulls_last=True)).first()
    return {
        "totals": {k: v or 0 for k, v in totals.items()},
        "hourly": list(series),
        "last_used_at": last.last_used_at if last else None,
        "last_used_ip": last.last_used_ip if last else None,
        "recent": usage.recent(str(key.lineage_id)),
    }
