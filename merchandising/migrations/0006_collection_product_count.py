"""A collection's product count kept by triggers (catalog/counters.py): list_collections without COUNT."""

import django.db.models.deletion
from django.db import migrations, models

from catalog import counters


def install(apps, schema_editor):
    for sql in counters.install_sql(counters.COLLECTION_PRODUCTS, schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    for sql in counters.uninstall_sql(counters.COLLECTION_PRODUCTS, schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("merchandising", "0005_store_writeback"),
        ("tenants", "0002_shopconnection"),
    ]

    operations = [
        migrations.CreateModel(
            name="CollectionProductCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slot", models.SmallIntegerField()),
                ("n", models.BigIntegerField()),
                (
                    "collection",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="merchandising.collection",
                    ),
                ),
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
                "constraints": [
                    models.UniqueConstraint(fields=("collection", "slot"), name="collection_product_count_unique_slot")
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
