"""Write the Dynasort docs page (generated from the action registry) to stdout."""

from pathlib import Path

from django.core.management.base import BaseCommand

from catalog.models import ProductOption
from merchandising.docs import ExampleIds, render
from merchandising.models import Collection, Recipe
from tenants.models import Tenant

TAIL_MARKER = "## Benchmarks"


class Command(BaseCommand):
    help = "Print docs/merchandising.md; with --tenant the curl examples use that shop's ids."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="take example ids from this shop (e.g. demo.myshopify.com)")
        parser.add_argument(
            "--write",
            metavar="PATH",
            help="write to PATH, keeping its hand-written tail (from the line '## Benchmarks' on)",
        )

    def handle(self, *args, tenant=None, write=None, **options):
        ids = ExampleIds()
        shop = Tenant.objects.filter(domain=tenant).first() if tenant else None
        if shop is not None:
            collections = list(Collection.objects.for_tenant(shop).order_by("external_id")[:2])
            recipe = Recipe.objects.for_tenant(shop).order_by("id").first()
            option = (
                ProductOption.objects.for_tenant(shop)
                .filter(external_id__isnull=False, product__variants__isnull=False)
                .select_related("product")
                .order_by("product__external_id", "position")
                .first()
            )
            if len(collections) == 2 and recipe and option:
                ids = ExampleIds(
                    collection_id=collections[0].external_id,
                    other_collection_id=collections[1].external_id,
                    recipe_id=recipe.pk,
                    product_id=option.product.external_id,
                    option_id=option.external_id,
                    option_name=option.name,
                )
        text = render(ids)
        if write:
            path = Path(write)
            old = path.read_text() if path.exists() else ""
            marker = old.find(TAIL_MARKER)
            path.write_text(text + ("\n" + old[marker:] if marker >= 0 else ""))
            return
        self.stdout.write(text, ending="")
