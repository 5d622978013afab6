"""The base view of every API surface: one authentication, access, rate-limit and usage stack.

A surface's views subclass ``SurfaceAPIView`` and set ``surface``; errors raised
anywhere in them are rendered by ``apikeys.errors`` in that surface's form.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from django.conf import settings
from rest_framework.request import Request
from rest_framework.views import APIView

from apikeys import idempotency, keycache, usage
from apikeys.auth import ApiKeyAuthentication, client_ip, count_failure
from apikeys.exceptions import ApiError, ErrorKind
from apikeys.models import ApiKey
from apikeys.permissions import Permission, permission_allows
from apikeys.ratelimit import Decision, Limit, limiter
from apikeys.surfaces import SurfaceSpec
from apikeys.tokens import KeyKind
from tenants.models import Tenant
from tenants.plans import plan_allows

_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def rate_limits_for(spec: SurfaceSpec, key: ApiKey) -> list[Limit]:
    """The limits that apply to a request of ``key`` on ``spec`` (DESIGN.md "Rate limits")."""
    if spec.rate_scope == "tenant":
        limit, window = settings.MERCHANDISING_RATE_LIMIT
        return [Limit(f"t{key.tenant_id}:{spec.surface}", limit, window)]
    return [Limit(f"k{key.lineage_id}", key.rate_limit, key.rate_limit_window)]


def rate_limit_headers(spec: SurfaceSpec, decision: Decision, window: int) -> dict[str, str]:
    reset_epoch = math.ceil(decision.reset_at)
    if spec.reset_format == "iso":
        reset = datetime.fromtimestamp(reset_epoch, UTC).isoformat().replace("+00:00", "Z")
    else:
        reset = str(reset_epoch)
    seconds_left = max(0, math.ceil(decision.reset_at - datetime.now(UTC).timestamp()))
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": reset,
        "RateLimit-Policy": f'"default";q={decision.limit};w={window}',
        "RateLimit": f'"default";r={decision.remaining};t={seconds_left}',
    }


class AccessRefused(ApiError):
    """A key refused before its rate limit is counted: wrong kind for the surface, IP allowlist or plan."""


class SurfaceAPIView(APIView):
    """Authenticate the key, check IP allowlist, plan, rate limit and permission, then run the view.

    Order matters: a key of a kind the surface does not serve, or outside its
    allowlist or plan, learns nothing and consumes nothing of its rate limit
    (but counts as a failure of its client address, as a wrong key does); the
    rate limit is counted before the permission check so refused permission
    probes are limited too.
    """

    surface: SurfaceSpec
    authentication_classes = [ApiKeyAuthentication]
    permission_classes: list = []
    throttle_classes: list = []
    # The permission each HTTP method needs; anything else needs ``write``.
    method_permissions: dict[str, Permission] = {m: Permission.READ for m in _READ_METHODS}
    # The key kinds this view accepts; None: the surface's (``SurfaceSpec.key_kinds``).
    key_kinds: frozenset[KeyKind] | None = None

    @property
    def tenant(self) -> Tenant:
        return self.request.api_key.tenant

    def initial(self, request: Request, *args, **kwargs) -> None:
        # DRF's: negotiation, versioning, then perform_authentication, check_permissions, check_throttles
        super().initial(request, *args, **kwargs)
        # last: a refused request claims no Idempotency-Key (it may be sent again once allowed)
        request.idempotency_claim = idempotency.begin(
            key=request.api_key,
            method=request.method,
            path=request.get_full_path(),
            header=request.headers.get(idempotency.HEADER),
            body=request._request.body if request.method in idempotency.MUTATING else b"",
        )

    def perform_authentication(self, request: Request) -> None:
        request.auth  # noqa: B018 (runs ApiKeyAuthentication once; raises AuthenticationFailed)
        request.client_ip = client_ip(request.META)

    def check_permissions(self, request: Request) -> None:
        """Access (key kind, IP allowlist, plan), then the rate limit, then the permission the method needs:
        the rate limit is counted before the permission so refused permission probes are limited too."""
        key: ApiKey = request.auth
        try:
            try:
                self.check_access(request, key)
            except AccessRefused:
                if not getattr(request, "key_cached", False):
                    raise
                # a refusal is never taken from the key cache: the allowlist or plan may have changed since
                key = self.reauthenticate(request, keycache.generation())
            self.check_rate_limit(request, key)
        except AccessRefused:
            # Counted once per request, like a wrong key: a flood of refused requests (each costs a Redis
            # and a database round trip) turns into 429s for its client address.
            count_failure(request.client_ip)
            raise
        self.require_permission(request, self.permission_for(request))

    def check_access(self, request: Request, key: ApiKey) -> None:
        request.api_key = key
        kinds = self.key_kinds if self.key_kinds is not None else self.surface.key_kinds
        if key.kind not in kinds:
            if key.kind == KeyKind.CONNECTOR:
                message = "A connector key (dyn_sk_) serves the Dynasort connector only; use an sk_live_ key here"
            else:
                message = f"A {key.kind} key is not accepted here"
            raise AccessRefused(ErrorKind.PERMISSION, message)
        if not key.ip_allowed(request.client_ip):
            raise AccessRefused(ErrorKind.IP_NOT_ALLOWED, "Request from an IP address not on the key's allowlist")
        if not plan_allows(key.tenant.plan, self.surface.surface):
            raise AccessRefused(ErrorKind.PLAN, f"The shop's plan ({key.tenant.plan}) does not include API access here")

    def permission_for(self, request: Request) -> Permission:
        return self.method_permissions.get(request.method, Permission.WRITE)

    def require_permission(self, request: Request, needed: Permission) -> None:
        if not permission_allows(request.api_key.permission, needed):
            raise ApiError(ErrorKind.PERMISSION, f"This API key needs the '{needed}' permission for this request")

    def check_rate_limit(self, request: Request, key: ApiKey) -> None:
        generation = getattr(request, "key_generation", None)
        limits = rate_limits_for(self.surface, key)
        decision = limiter.hit(limits, generation=generation)
        if decision.stale or (getattr(request, "key_cached", False) and decision.generation is None):
            # The key is not known to be current (its generation moved, or it came from the process cache and
            # Redis cannot say now): authenticate again from the database, as an uncached request would.
            key = self.reauthenticate(request, decision.generation)
            limits = rate_limits_for(self.surface, key)
            if decision.stale:  # nothing was counted; a fresh key needs no generation check
                decision = limiter.hit(limits)
        request.rate_limit_headers = rate_limit_headers(self.surface, decision, limits[0].window)
        if not decision.allowed:
            raise ApiError(ErrorKind.RATE_LIMITED, "Too many requests", retry_after=decision.retry_after)

    def reauthenticate(self, request: Request, generation: str | None) -> ApiKey:
        principal, key = ApiKeyAuthentication().authenticate(request, fresh=True, generation=generation)
        request.user, request.auth = principal, key
        self.check_access(request, key)
        return key

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim = getattr(request, "idempotency_claim", None)
        if claim is not None:
            request.idempotency_claim = None
            idempotency.finish(claim, response)
        for name, value in (getattr(request, "rate_limit_headers", None) or {}).items():
            response[name] = value
        key = getattr(request, "api_key", None)
        if key is not None:
            usage.record(
                key_id=key.pk,
                lineage_id=str(key.lineage_id),
                status=response.status_code,
                method=request.method,
                path=request.get_full_path(),
                ip=getattr(request, "client_ip", None),
            )
        return response
