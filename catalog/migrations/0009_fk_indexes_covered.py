# Drops the single-column indexes Django made for five foreign keys whose lookups a composite index already
# serves (it leads with the same column): variant (tenant, external_id) and (product, position), product GTIN
# (tenant, gtin) and (product, gtin), product option (product, position). Each was one more B-tree insert per
# synced row. Only the indexes go: the foreign-key constraints stay as they are (SeparateDatabaseAndState, so
# PostgreSQL does not drop and re-validate them and SQLite does not rebuild the tables).

import django.db.models.deletion
from django.db import migrations, models


def _drop_index(table: str, column: str, name: str) -> migrations.RunSQL:
    # the names Django gave these indexes (the same on PostgreSQL and SQLite); reversible
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{name}"', reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_product_count"),
        ("tenants", "0002_shopconnection"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="productgtin",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="gtins",
                        to="catalog.product",
                    ),
                ),
                migrations.AlterField(
                    model_name="productgtin",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenants.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="productoption",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="options",
                        to="catalog.product",
                    ),
                ),
                migrations.AlterField(
                    model_name="variant",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="variants",
                        to="catalog.product",
                    ),
                ),
                migrations.AlterField(
                    model_name="variant",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenants.tenant",
                    ),
                ),
            ],
            database_operations=[
                _drop_index("catalog_productgtin", "product_id", "catalog_productgtin_product_id_ccb7af0d"),
                _drop_index("catalog_productgtin", "tenant_id", "catalog_productgtin_tenant_id_ef277270"),
                _drop_index("catalog_productoption", "product_id", "catalog_productoption_product_id_d81cc5b1"),
                _drop_index("catalog_variant", "product_id", "catalog_variant_product_id_8a21d193"),
                _drop_index("catalog_variant", "tenant_id", "catalog_variant_tenant_id_a455010b"),
            ],
        ),
    ]
