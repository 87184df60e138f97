"""Vacuum the stage history sooner than PostgreSQL's default (after 20% of a table changes).

Every move updates the row that started the deal's previous stay, and the reports read the
stays from an index alone only where the visibility map says a page is all-visible; a vacuum
after 2% of the history changes keeps that true for all but the newest rows.
"""

from django.db import migrations

SETTINGS = (
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_insert_scale_factor",
    "autovacuum_analyze_scale_factor",
)


def tune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        values = ", ".join(f"{name} = 0.02" for name in SETTINGS)
        schema_editor.execute(f"ALTER TABLE pipeline_stagechange SET ({values})")


def untune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE pipeline_stagechange RESET ({', '.join(SETTINGS)})")


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0009_stay_outcomes")]

    operations = [migrations.RunPython(tune, untune, elidable=False)]
