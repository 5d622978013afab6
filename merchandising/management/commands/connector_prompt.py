"""Print the Dynasort connector system prompt of a shop (generated from the action registry)."""

from django.core.management.base import BaseCommand, CommandError

from merchandising.prompt import build_prompt
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Print the Dynasort connector system prompt of a shop."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the shop's domain, e.g. demo.myshopify.com")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where this platform is served")

    def handle(self, *args, tenant, base_url, **options):
        shop = Tenant.objects.filter(domain=tenant.strip().lower()).first()
        if shop is None:
            raise CommandError(f"No tenant {tenant!r}")
        self.stdout.write(build_prompt(tenant=shop, base_url=base_url), ending="")
