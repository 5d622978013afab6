"""``Idempotency-Key`` on every mutating request of every surface (draft-ietf-httpapi-idempotency-key-header,
with Stripe's behaviour where the draft leaves a choice).

A request that carries the header claims a row (``IdempotencyRecord``) whose unique scope is the tenant, the
key's lineage (a rotated key keeps it), the method, the path and the client's key, committed before the view
runs. The database's unique index is the lock, so two copies sent at once can never both run, in any process:

- the first copy runs, and its response (any status below 500) is stored with the row;
- a copy that arrives while the first still runs is refused with 409 (retry later);
- a later copy with the same body is answered with the stored response and ``Idempotent-Replayed: true``;
- the same key with another body is refused with 422;
- a 5xx (or a crash) releases the key: the request did not complete and may be sent again.

Written here because the Django packages for this were found to run concurrent duplicates twice (they
check, then write, without a lock); this one writes first.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from apikeys.exceptions import ApiError, BadRequest, ErrorKind
from apikeys.models import ApiKey, IdempotencyRecord

log = logging.getLogger("apikeys.idempotency")

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Claim:
    """A request that holds an Idempotency-Key: its row is completed or released when the response is known."""

    record_id: int


class Replay(Exception):
    """The response stored for an earlier request with the same key and body."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record

    def response(self) -> HttpResponse:
        response = HttpResponse(
            bytes(self.record.body or b""), status=self.record.status_code, content_type=self.record.content_type
        )
        response[REPLAY_HEADER] = "true"
        return response


def _ttl() -> timedelta:
    return timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)


def _valid_key(value: str) -> bool:
    return 0 < len(value) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in value)


def begin(*, key: ApiKey, method: str, path: str, header: str | None, body: bytes) -> Claim | None:
    """Claim the Idempotency-Key of a request, or answer it from an earlier one (raises ``Replay``).

    Returns None when the request has no key or is not mutating (it runs as usual)."""
    if header is None or method not in MUTATING:
        return None
    # RFC 8941 sf-string: the value is sent quoted ("..."); unquoted values are accepted as clients send them
    value = header.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _valid_key(value):
        raise BadRequest(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    scope = hashlib.sha256(f"{key.lineage_id}\n{method}\n{path}\n{value}".encode()).hexdigest()
    fingerprint = hashlib.sha256(body).hexdigest()
    for _ in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    tenant_id=key.tenant_id,
                    lineage_id=key.lineage_id,
                    method=method,
                    path=path,
                    key=value,
                    scope=scope,
                    fingerprint=fingerprint,
                )
            return Claim(record.pk)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(tenant_id=key.tenant_id, scope=scope).first()
        if existing is None:
            continue  # released meanwhile: claim it again
        now = timezone.now()
        # expired, or a request that never finished (its process died): the key is free again
        abandoned = existing.state == IdempotencyRecord.State.RUNNING and existing.created_at < now - timedelta(
            seconds=settings.IDEMPOTENCY_RUNNING_TIMEOUT_SECONDS
        )
        if existing.created_at < now - _ttl() or abandoned:
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise ApiError(
                ErrorKind.IDEMPOTENCY_MISMATCH,
                f"This {HEADER} was used for a request with another body; use a new key for a new request",
            )
        if existing.state == IdempotencyRecord.State.RUNNING:
            raise ApiError(
                ErrorKind.IDEMPOTENCY_IN_USE,
                f"A request with this {HEADER} is still being processed; retry when it has completed",
                retry_after=1,
            )
        raise Replay(existing)
    raise ApiError(ErrorKind.IDEMPOTENCY_IN_USE, f"A request with this {HEADER} is being processed", retry_after=1)


def finish(claim: Claim, response: HttpResponse) -> None:
    """Store the response of a claimed request, or release the key when the request did not complete (5xx)."""
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=claim.record_id).delete()
        return
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    IdempotencyRecord.objects.filter(pk=claim.record_id).update(
        state=IdempotencyRecord.State.DONE,
        status_code=response.status_code,
        content_type=response.get("Content-Type", "")[:100],
        body=bytes(response.content),
        completed_at=timezone.now(),
    )


def release(claim: Claim) -> None:
    """The request failed before it had a response: free the key."""
    IdempotencyRecord.objects.filter(pk=claim.record_id).delete()


def purge(*, now=None) -> int:
    """Forget the keys past their time to live (a periodic task)."""
    cutoff = (now or timezone.now()) - _ttl()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
