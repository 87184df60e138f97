from django.db import migrations

REASONS = [
    "Price too high",
    "Chose a competitor",
    "No budget",
    "No decision, went quiet",
    "Timing not right",
    "Missing a feature they need",
    "Not a good fit",
]


def create_reasons(apps, schema_editor):
    LostReason = apps.get_model("pipeline", "LostReason")
    if not LostReason.objects.exists():
        LostReason.objects.bulk_create(
            LostReason(text=text, position=index) for index, text in enumerate(REASONS)
        )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0003_board")]

    operations = [migrations.RunPython(create_reasons, migrations.RunPython.noop)]
