from django.db import migrations

from pipeline.defaults import create_default_lost_reasons


def create(apps, schema_editor):
    create_default_lost_reasons(apps.get_model("pipeline", "LostReason"))


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0003_board")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
