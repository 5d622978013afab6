"""Fresh category suggestions for every product of a shop without a merchant-set category (docs/catalog.md)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.category_suggestions import CHUNK, category_suggestions_refresh
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Suggest categories for every product of a tenant whose category the merchant did not set: one Celery "
        f"task per {CHUNK} products, or in this process with --inline. A merchant's category is never replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant domain")
        parser.add_argument("--inline", action="store_true", help="compute here instead of enqueueing tasks")

    def handle(self, *args, **opts):
        tenant = Tenant.objects.filter(domain=opts["tenant"].strip().lower()).first()
        if tenant is None:
            raise CommandError(f"No tenant with domain {opts['tenant']}")
        t0 = time.perf_counter()
        if opts["inline"]:  # one transaction per chunk
            count = category_suggestions_refresh(tenant=tenant, inline=True)
        else:
            with transaction.atomic():  # the tasks are enqueued when this commits
                count = category_suggestions_refresh(tenant=tenant)
        verb = "suggested" if opts["inline"] else "queued"
        self.stdout.write(f"{tenant.domain}: {count} product(s) {verb} in {time.perf_counter() - t0:.1f} s")
