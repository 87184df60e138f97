from django.db import migrations

from pipeline.defaults import DEFAULT_PIPELINE_NAME, SIX_STAGE_CYCLE


def create_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    if Pipeline.objects.exists():
        return
    pipeline = Pipeline.objects.create(name=DEFAULT_PIPELINE_NAME, position=0)
    Stage.objects.bulk_create(
        Stage(pipeline=pipeline, position=index, **spec)
        for index, spec in enumerate(SIX_STAGE_CYCLE)
    )


def remove_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    pipelines = Pipeline.objects.filter(name=DEFAULT_PIPELINE_NAME, deals__isnull=True)
    Stage.objects.filter(pipeline__in=pipelines).delete()
    pipelines.delete()


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [migrations.RunPython(create_default_pipeline, remove_default_pipeline)]
