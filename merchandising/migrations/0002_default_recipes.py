"""Give tenants created before this app existed the starter recipes (new tenants get them from
the tenant_created signal). Uses the historical models; the list mirrors services.DEFAULT_RECIPES
as it was when this migration was written."""

from django.db import migrations

DEFAULTS = [
    ("Best sellers (30 days)", "30", {"sales": 70, "revenue": 30}),
    ("Trending (7 days)", "7", {"sales": 60, "revenue": 20, "newness": 20}),
    ("New arrivals", "30", {"newness": 80, "sales": 20}),
    ("High margin", "90", {"margin": 60, "revenue": 40}),
    ("Clearance", "90", {"inventory": 50, "discount": 50}),
]


def forwards(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    Recipe = apps.get_model("merchandising", "Recipe")
    for tenant in Tenant.objects.all().iterator():
        existing = set(Recipe.objects.filter(tenant=tenant).values_list("name", flat=True))
        Recipe.objects.bulk_create(
            [
                Recipe(tenant=tenant, name=name, days=days, **{f"weight_{k}": v for k, v in weights.items()})
                for name, days, weights in DEFAULTS
                if name not in existing
            ]
        )


class Migration(migrations.Migration):
    dependencies = [("merchandising", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
