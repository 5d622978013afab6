"""Check or rebuild the counters the database triggers keep (catalog/counters.py).

manage.py recount --check   # exit 1 and list the keys whose counter differs from COUNT(*)
manage.py recount           # recount every key (the counted tables are locked against writes meanwhile)
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog import counters

COUNTERS = {"products": counters.PRODUCTS, "collection_products": counters.COLLECTION_PRODUCTS}


class Command(BaseCommand):
    help = "Check (--check) or rebuild the product and collection-membership counters kept by triggers."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only compare with COUNT(*); exit 1 on a difference")

    def handle(self, *args, check: bool, **options):
        wrong = 0
        for name, counted in COUNTERS.items():
            if check:
                diffs = counters.check(counted)
                wrong += len(diffs)
                for key, got, actual in diffs[:20]:
                    self.stdout.write(f"{name}: {counted.key}={key} counted {got}, actual {actual}")
                self.stdout.write(f"{name}: {'exact' if not diffs else f'{len(diffs)} wrong'}")
            else:
                self.stdout.write(f"{name}: {counters.rebuild(counted)} counter rows rebuilt")
        if wrong:
            raise CommandError(f"{wrong} counters differ from COUNT(*); run manage.py recount")
