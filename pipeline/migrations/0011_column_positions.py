"""A card's place in its column is unique, and deals on no column have none.

Before this, concurrent drops into one column could leave several cards with the same
position, and lost deals (or won deals of a pipeline without a post-sale stage) kept the
position of the column they had left. This migration empties the positions of deals on no
column, renumbers every column that holds a duplicate (keeping its order, ties by id), and
then adds the unique constraint on (stage, position). Columns without duplicates are not
touched, so on a healthy database it only rewrites lost and won deals.
"""

from django.db import migrations, models
from django.db.models import Count, F

GAP = 1 << 20  # pipeline.services.POSITION_GAP when this was written


def tidy_positions(apps, schema_editor):
    Deal = apps.get_model("pipeline", "Deal")
    Deal.objects.filter(status="lost").exclude(position=None).update(position=None)
    Deal.objects.filter(status="won", stage__is_won=False).exclude(position=None).update(
        position=None
    )
    crowded = (
        Deal.objects.exclude(position=None)
        .values("stage_id", "position")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("stage_id", flat=True)
        .distinct()
    )
    for stage_id in sorted(set(crowded)):
        column = Deal.objects.filter(stage_id=stage_id).exclude(position=None)
        ids = list(column.order_by(F("position").asc(), "id").values_list("pk", flat=True))
        column.update(position=None)
        Deal.objects.bulk_update(
            [Deal(pk=pk, position=rank * GAP) for rank, pk in enumerate(ids, start=1)],
            ["position"],
            batch_size=1000,
        )


def fill_positions(apps, schema_editor):
    """Going back: the old column held no empty positions."""
    apps.get_model("pipeline", "Deal").objects.filter(position=None).update(position=0)


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0010_stagechange_autovacuum")]

    operations = [
        migrations.AlterField(
            model_name="deal",
            name="position",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(tidy_positions, fill_positions, elidable=True),
        migrations.AddConstraint(
            model_name="deal",
            constraint=models.UniqueConstraint(
                fields=("stage", "position"),
                name="deal_position_unique_in_stage",
                violation_error_message="Two cards cannot share a place in a column.",
            ),
        ),
    ]
