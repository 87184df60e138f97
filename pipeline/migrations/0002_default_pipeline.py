from django.db import migrations

from pipeline.defaults import DEFAULT_PIPELINE_NAME, create_default_pipeline


def create(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    if not Pipeline.objects.exists():
        create_default_pipeline(Pipeline, apps.get_model("pipeline", "Stage"))


def remove(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    pipelines = Pipeline.objects.filter(name=DEFAULT_PIPELINE_NAME, deals__isnull=True)
    Stage.objects.filter(pipeline__in=pipelines).delete()
    pipelines.delete()


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
