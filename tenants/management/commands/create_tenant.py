from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.plans import Plan
from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (a shop)."

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--plan", default=Plan.ENTERPRISE.value, choices=[p.value for p in Plan])
        parser.add_argument(
            "--no-recommendations", action="store_true", help="turn should_recommend_products off for this shop"
        )

    def handle(self, *args, domain, name, plan, no_recommendations, **options):
        if Tenant.objects.filter(domain=domain.strip().lower()).exists():
            raise CommandError(f"A tenant with domain {domain} exists already.")
        try:
            tenant = tenant_create(
                domain=domain, name=name, plan=plan, should_recommend_products=not no_recommendations
            )
        except ValidationError as exc:
            raise CommandError(f"Invalid tenant: {exc.message_dict}") from exc
        self.stdout.write(f"Created tenant {tenant.domain} (id {tenant.pk}, plan {tenant.plan}).")
