"""Recompute the stored recommendations of every product of a shop (docs/catalog.md, "Recommend all")."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.recommendation_services import recommendations_all
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Recompute the recommendations of every active product of a tenant: one Celery task per chunk of "
        "product ids (several workers share the work), or in this process with --inline."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant domain")
        parser.add_argument("--chunk-size", type=int, default=1000, help="products per task (default 1000)")
        parser.add_argument("--inline", action="store_true", help="compute here instead of enqueueing tasks")

    def handle(self, *args, **opts):
        tenant = Tenant.objects.filter(domain=opts["tenant"].strip().lower()).first()
        if tenant is None:
            raise CommandError(f"No tenant with domain {opts['tenant']}")
        if opts["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        t0 = time.perf_counter()
        if opts["inline"]:  # one transaction per chunk
            chunks = recommendations_all(tenant=tenant, chunk_size=opts["chunk_size"], inline=True)
        else:
            with transaction.atomic():  # the tasks are enqueued when this commits
                chunks = recommendations_all(tenant=tenant, chunk_size=opts["chunk_size"])
        took = time.perf_counter() - t0
        verb = "computed" if opts["inline"] else "enqueued"
        size = opts["chunk_size"]
        self.stdout.write(f"{tenant.domain}: {chunks} chunk(s) of up to {size} products {verb} in {took:.1f} s")
