# The task outbox moves from the project package (config) to the ground floor (core): the table is renamed,
# its rows kept; config's 0002 drops the model from config's state.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("config", "0001_task_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TaskOutbox",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("task", models.CharField(max_length=200)),
                        ("args", models.JSONField(default=list)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        "verbose_name_plural": "task outbox",
                    },
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE config_taskoutbox RENAME TO core_taskoutbox",
                    "ALTER TABLE core_taskoutbox RENAME TO config_taskoutbox",
                ),
            ],
        ),
    ]
