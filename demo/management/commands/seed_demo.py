"""Seed the demo shop: tenant, fixed demo keys, and its data from the demo generator (demo/generator.py).

The demo keys are derived from fixed seeds so the curl examples in docs/ work
verbatim against `make run`. They are public: the command refuses to run with
DEBUG off unless --allow-production is given.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apikeys import tokens
from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke
from apikeys.tokens import KeyKind
from demo.generator import generate
from tenants.models import ShopConnection, Tenant
from tenants.plans import Plan
from tenants.services import shop_connection_set, tenant_create

DEMO_DOMAIN = "demo.myshopify.com"
# The embedded demo's admin login (public, like the keys); never created in production mode.
DEMO_STAFF_USERNAME = "demo"
DEMO_STAFF_PASSWORD = "demo"  # noqa: S105  (a public demo value, DEBUG only)
# What `make run --base-url` prints: the landing page, each surface's docs, the admin, the probes.
SURFACES = ["merchandising", "catalog", "pricing", "platform"]
DEMO_WEBHOOK_SECRET = "shpss_demo_webhook_secret"  # noqa: S105 (a public demo value, printed like the keys)
DEMO_KEYS = [
    # (name, kind, permission, seed)
    ("demo connector", KeyKind.CONNECTOR, "write", b"demo-connector"),
    ("demo admin", KeyKind.STANDARD, "admin", b"demo-admin"),
    ("demo write", KeyKind.STANDARD, "write", b"demo-write"),
    ("demo read", KeyKind.STANDARD, "read", b"demo-read"),
    # a key to try rotation and revocation on (the API docs' examples use it), so the others keep working
    ("demo spare", KeyKind.STANDARD, "read", b"demo-spare"),
]


def demo_key(seed: bytes, kind: KeyKind) -> str:
    return tokens.generate(kind, seed=seed)


class Command(BaseCommand):
    help = "Create (or refresh) the demo shop and print its API keys."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200, help="number of demo products (100 to 1,000,000)")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--allow-production", action="store_true")
        parser.add_argument("--keys-only", action="store_true", help="create the tenant and keys, no catalog data")
        parser.add_argument(
            "--generator", action="store_true", help="accepted for older scripts: the generator builds every size"
        )
        parser.add_argument("--lines", type=int, default=None, help="order lines (default 10 per product)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
        parser.add_argument("--base-url", help="print the URLs of the landing page, API docs and admin under this base")

    def handle(
        self, *args, products, seed, allow_production, keys_only, generator, lines, no_progress, base_url, **options
    ):
        if settings.PRODUCTION and not allow_production:
            raise CommandError("seed_demo creates keys with public values; pass --allow-production to do so anyway.")
        if not 1 <= products <= 1_000_000:
            raise CommandError("--products must be between 1 and 1,000,000.")
        if lines is not None and lines < 0:
            raise CommandError("--lines must not be negative.")
        with transaction.atomic():
            tenant = Tenant.objects.filter(domain=DEMO_DOMAIN).first() or tenant_create(
                domain=DEMO_DOMAIN, name="Demo Shop", plan=Plan.ENTERPRISE
            )
            for name, kind, permission, key_seed in DEMO_KEYS:
                plaintext = demo_key(key_seed, kind)
                if not ApiKey.objects.filter(key_hash=tokens.digest(plaintext)).exists():
                    if kind == KeyKind.CONNECTOR:
                        for old in ApiKey.objects.for_tenant(tenant).filter(kind=kind, revoked_at__isnull=True):
                            api_key_revoke(key=old, actor="seed_demo", reason="replaced by the demo connector key")
                    api_key_create(
                        tenant=tenant, name=name, kind=kind, permission=permission, actor="seed_demo", seed=key_seed
                    )
            if not ShopConnection.objects.filter(tenant=tenant).exists():
                # a public demo webhook secret, so docs/shopify.md's signed example works against the demo
                shop_connection_set(tenant=tenant, shop_domain=DEMO_DOMAIN, webhook_secret=DEMO_WEBHOOK_SECRET)
        if not keys_only:
            generate(
                tenant=tenant, products=products, seed=seed, lines=lines, stdout=self.stdout, progress=not no_progress
            )
        staff = None if settings.PRODUCTION else demo_staff_user()
        self.stdout.write(f"Demo shop {tenant.domain} (plan {tenant.plan}). API keys (demo only, public values):")
        for name, kind, permission, key_seed in DEMO_KEYS:
            self.stdout.write(f"  {name:<16} {permission:<6} {demo_key(key_seed, kind)}")
        self.stdout.write(f"Shopify webhook secret of {DEMO_DOMAIN} (demo only): {DEMO_WEBHOOK_SECRET}")
        if staff is not None:
            self.stdout.write(f"Admin login (demo only): user {DEMO_STAFF_USERNAME}, password {DEMO_STAFF_PASSWORD}")
        if base_url:
            base = base_url.rstrip("/")
            self.stdout.write(f"Open {base}/ (this shop's front door). API docs (Swagger UI, try it out):")
            for surface in SURFACES:
                self.stdout.write(f"  {surface:<14} {base}/api/docs/{surface}/")
            self.stdout.write(f"Admin {base}/admin/   health {base}/healthz   readiness {base}/readyz")
            self.stdout.write(f"MCP server for AI assistants {base}/mcp (docs/assistants.md)")


def demo_staff_user():
    """The embedded demo's superuser with its public login (the password is reset so the printed one works)."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=DEMO_STAFF_USERNAME)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(DEMO_STAFF_PASSWORD)
    user.save()
    return user
