"""The tenant's product count kept by triggers (catalog/counters.py): the lists' totals without COUNT(*)."""

import django.db.models.deletion
from django.db import migrations, models

from catalog import counters


def install(apps, schema_editor):
    for sql in counters.install_sql(counters.PRODUCTS, schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    for sql in counters.uninstall_sql(counters.PRODUCTS, schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_webhook_delivery_failed_state"),
        ("tenants", "0002_shopconnection"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProductCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slot", models.SmallIntegerField()),
                ("n", models.BigIntegerField()),
                (
                    "tenant",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="tenants.tenant",
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("tenant", "slot"), name="product_count_unique_slot")],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
