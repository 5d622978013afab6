import re
from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apikeys.exceptions import ApiError
from apikeys.permissions import Permission
from apikeys.services import api_key_create
from apikeys.tokens import KeyKind
from tenants.models import Tenant

_WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate_limit(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(second|minute|hour|day)", value)
    if not match or int(match.group(1)) < 1:
        raise CommandError("--rate-limit must look like 1000/hour (second, minute, hour or day)")
    return int(match.group(1)), _WINDOWS[match.group(2)]


class Command(BaseCommand):
    help = "Create an API key for a tenant. The plaintext key is printed alone on the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant domain")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--permission",
            default="read",
            choices=[p.value for p in Permission],
            help="read (default), write or admin; a connector key is read (looks only) or write",
        )
        parser.add_argument(
            "--connector", action="store_true", help="a Dynasort connector key (dyn_sk_…; Dynasort connector only)"
        )
        parser.add_argument("--expires", help="expiry date (YYYY-MM-DD) or ISO 8601 time")
        parser.add_argument("--ip", action="append", default=[], help="allowed address or CIDR (repeatable)")
        parser.add_argument("--rate-limit", default="1000/hour")

    def handle(self, *args, **opts):
        tenant = Tenant.objects.filter(domain=opts["tenant"].strip().lower()).first()
        if tenant is None:
            raise CommandError(f"No tenant with domain {opts['tenant']}")
        expires_at = None
        if opts["expires"]:
            try:
                parsed = datetime.fromisoformat(opts["expires"])
            except ValueError as exc:
                raise CommandError("--expires must be a date (YYYY-MM-DD) or an ISO 8601 time") from exc
            if len(opts["expires"]) == 10:
                parsed = datetime.combine(parsed.date(), time.min)
            expires_at = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
        limit, window = parse_rate_limit(opts["rate_limit"])
        try:
            issued = api_key_create(
                tenant=tenant,
                name=opts["name"],
                permission=opts["permission"],
                kind=KeyKind.CONNECTOR if opts["connector"] else KeyKind.STANDARD,
                allowed_ips=opts["ip"],
                expires_at=expires_at,
                rate_limit=limit,
                rate_limit_window=window,
                actor="cli",
            )
        except ApiError as exc:
            raise CommandError(f"{exc.message} {exc.errors or ''}".strip()) from exc
        self.stdout.write(f"Created {issued.key.kind} key {issued.key.name!r} ({issued.key.permission}) for {tenant}.")
        self.stdout.write("Store it now; it is not shown again:")
        self.stdout.write(issued.plaintext)
