# The task outbox now belongs to the ground floor (core 0001 renamed its table): only config's state forgets it.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_task_outbox"),
        ("core", "0001_task_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="TaskOutbox")],
            database_operations=[],
        ),
    ]
