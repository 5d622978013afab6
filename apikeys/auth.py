"""Authentication by API key, the client address, and the DRF authentication class."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from apikeys import keycache, tokens
from apikeys.exceptions import ApiError, ErrorKind
from apikeys.models import ApiKey
from apikeys.ratelimit import Limit, limiter
from tenants.models import Tenant

# RFC 7235: the auth-scheme is case-insensitive ("bearer" and "BEARER" are "Bearer").
_BEARER = re.compile(r"Bearer +([^\s]+)", re.IGNORECASE)


def client_ip(meta: dict) -> str | None:
    """The client address: REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost of
    ``TRUSTED_PROXY_COUNT`` trusted proxies. Entries a client wrote itself are never trusted."""
    remote = meta.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return remote
    return remote


def request_client_ip(request) -> str | None:
    """``client_ip`` of a Django request: django-axes counts admin login failures per this address
    (``AXES_CLIENT_IP_CALLABLE``), so the admin and the API agree on who the client is."""
    return client_ip(request.META)


@dataclass(frozen=True)
class KeyPrincipal:
    """``request.user`` on API surfaces: the tenant acting through one key."""

    key: ApiKey

    @property
    def tenant(self) -> Tenant:
        return self.key.tenant

    is_authenticated = True
    is_anonymous = False

    def __str__(self) -> str:
        return f"key:{self.key.prefix}…{self.key.last_four}"


def digest_from_header(header: str | None) -> str:
    """The SHA-256 of the key in an ``Authorization: Bearer <key>`` header. Malformed keys and keys
    with a wrong checksum are refused here, before any I/O."""
    if not header:
        raise AuthenticationFailed("Missing API key")
    match = _BEARER.fullmatch(header.strip())
    if match is None:
        raise AuthenticationFailed("The Authorization header must be 'Bearer <key>'")
    plaintext = match.group(1)
    if not tokens.is_well_formed(plaintext):
        raise AuthenticationFailed("Invalid API key")
    return tokens.digest(plaintext)


def key_for_digest(
    digest: str, *, fresh: bool = False, generation: str | None = None
) -> tuple[ApiKey, str | None, bool]:
    """The active key of this hash, the cache generation it is known at (None: not cached) and whether it
    came from the process cache (False: just read from the database).

    A cached key costs nothing here (unless ``fresh``); otherwise one indexed query (by hash,
    tenant joined), and the key is cached under ``generation``, which must have been read from
    Redis before this call, or else under the current one, read now before the query.
    """
    entry = None if fresh else keycache.cache.get(digest)
    if entry is not None:
        try:
            _check_active(entry.key)
            return entry.key, entry.generation, True
        except AuthenticationFailed:
            pass  # a refusal is never taken from the cache: the key may have changed since (e.g. a new expiry)
    if generation is None or entry is not None:
        generation = keycache.generation()
    key = ApiKey.objects.select_related("tenant").filter(key_hash=digest).first()
    if key is None:
        raise AuthenticationFailed("Invalid API key")
    if generation is not None:
        keycache.cache.put(digest, key, generation)
    _check_active(key)
    return key, generation, False


def _check_active(key: ApiKey) -> None:
    now = timezone.now()
    if key.revoked_at is not None and key.revoked_at <= now:
        raise AuthenticationFailed("API key revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationFailed("API key expired")


def count_failure(ip: str | None) -> None:
    """Failed authentications are limited per client address (AUTH_FAILURE_RATE_LIMIT): past the
    limit the answer is 429 instead of 401 (or instead of the 403 of a key refused by its kind, IP
    allowlist or plan: ``apikeys.views``). Only failures are counted, so this costs a valid request
    nothing; keys carry 256 random bits, so the point is to cap floods of failing lookups and tell a
    misconfigured or hostile client to back off, not to make guessing harder."""
    limit, window = settings.AUTH_FAILURE_RATE_LIMIT
    decision = limiter.hit([Limit(f"authfail:{ip or 'unknown'}", limit, window)])
    if not decision.allowed:
        raise ApiError(
            ErrorKind.RATE_LIMITED, "Too many failed authentication attempts", retry_after=decision.retry_after
        )


class ApiKeyAuthentication(BaseAuthentication):
    """Bearer API keys (DESIGN.md "API keys")."""

    keyword = "Bearer"

    def authenticate(self, request, *, fresh: bool = False, generation: str | None = None):
        """The key, from the process cache when it has it. ``request.key_generation`` is the cache
        generation the key is known at, for the rate-limit call to check (apikeys.views); when that
        is stale the view calls this again with ``fresh`` and the generation Redis holds now.
        ``request.key_cached`` says whether the key came from the cache (a refusal is then checked
        against the database before it is answered; a key just read from it is not read again)."""
        try:
            request.key_digest = digest_from_header(request.META.get("HTTP_AUTHORIZATION"))
            key, request.key_generation, request.key_cached = key_for_digest(
                request.key_digest, fresh=fresh, generation=generation
            )
        except AuthenticationFailed:
            count_failure(client_ip(request.META))
            raise
        return KeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
