"""Where each stay ends is stored on the row that started it, as deal_move writes history."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.db import connection
from django.utils.dateparse import parse_datetime

from pipeline.history import stage_changes_link_stays
from pipeline.models import StageChange
from pipeline.services import deal_create, deal_move, deal_update, stage_remove
from tests.factories import PipelineFactory, StageFactory

pytestmark = pytest.mark.django_db


def moment(value) -> dt.datetime | None:
    """A moment from raw SQL: PostgreSQL gives a datetime, SQLite the UTC text it stores."""
    if isinstance(value, str):
        value = parse_datetime(value)
        assert value is not None
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value


def computed_ends() -> dict[int, tuple]:
    """Every row's end as the window function over each deal's history finds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT sc.id, nxt.next_at, nxt.next_id, nxt.next_kind, nxt.next_stage
            FROM pipeline_stagechange sc
            LEFT JOIN (
                SELECT id, LEAD(changed_at) OVER w AS next_at, LEAD(id) OVER w AS next_id,
                       LEAD(kind) OVER w AS next_kind, LEAD(to_stage_id) OVER w AS next_stage
                FROM pipeline_stagechange
                WHERE kind NOT IN ('reorder', 'owner')
                WINDOW w AS (PARTITION BY deal_id ORDER BY changed_at, id)
            ) nxt ON nxt.id = sc.id
            WHERE sc.to_status = 'open'
              AND sc.kind IN ('created', 'stage', 'reopened', 'pipeline')
            """
        )
        computed = {pk: (moment(at), by, kind or "", stage) for pk, at, by, kind, stage in cursor}
    others = StageChange.objects.exclude(
        to_status="open", kind__in=StageChange.STAY_KINDS
    ).values_list("id", flat=True)
    computed.update(dict.fromkeys(others, (None, None, "", None)))
    return computed


def stored_ends() -> dict[int, tuple]:
    """Every row's stored end: when, by which row, and that row's kind and stage."""
    fields = ("id", "ended_at", "ended_by_id", "ended_kind", "ended_to_stage_id")
    return {pk: tuple(rest) for pk, *rest in StageChange.objects.values_list(*fields)}


def move(deal, actor, **kwargs):
    deal.refresh_from_db()
    return deal_move(actor=actor, deal_id=deal.pk, version=deal.version, **kwargs)


def test_stored_ends_equal_what_the_window_function_computes(rep, other_rep, admin, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"], value=Decimal(10))
    neighbour = deal_create(actor=rep, title="Beta", stage=by_name["Proposal"])
    assert stored_ends() == computed_ends()

    move(deal, rep, stage_id=by_name["Proposal"].pk)  # on
    move(deal, rep, stage_id=by_name["Proposal"].pk, above_id=neighbour.pk)  # reorder
    deal.refresh_from_db()
    deal_update(actor=admin, deal_id=deal.pk, version=deal.version, owner=other_rep)  # owner
    move(deal, other_rep, stage_id=by_name["Qualify"].pk)  # back
    move(deal, other_rep, outcome="lost", lost_reason="Price")
    move(deal, other_rep, stage_id=by_name["Negotiation"].pk)  # reopened
    renewals = PipelineFactory(name="Renewals", position=1)
    intake = StageFactory(pipeline=renewals, name="Intake", position=1)
    move(deal, other_rep, stage_id=intake.pk, allow_other_pipeline=True)  # pipeline
    move(deal, other_rep, stage_id=by_name["Closing"].pk, allow_other_pipeline=True)
    move(neighbour, rep, outcome="lost", lost_reason="Timing")
    stage_remove(
        actor=admin, stage_id=by_name["Proposal"].pk, target_stage_id=by_name["Qualify"].pk
    )
    move(deal, other_rep, outcome="won")

    stored, computed = stored_ends(), computed_ends()
    assert stored == computed
    kinds = set(StageChange.objects.filter(deal=deal).values_list("kind", flat=True))
    assert kinds == {"created", "stage", "reorder", "owner", "lost", "reopened", "pipeline", "won"}
    # Every stay of the deal has ended; the owner change and the reorder ended none.
    starts = StageChange.objects.filter(
        deal=deal, to_status="open", kind__in=StageChange.STAY_KINDS
    )
    assert starts.count() == 6
    assert not starts.filter(ended_at__isnull=True).exists()
    assert not StageChange.objects.filter(ended_by__kind__in=StageChange.NOT_HISTORY_KINDS).exists()
    # The neighbour's stay was ended by its loss, before its stage was removed.
    assert StageChange.objects.get(deal=neighbour, kind="created").ended_by.kind == "lost"
    # Recomputing from the history finds nothing to change.
    assert stage_changes_link_stays() == 0
    assert stored_ends() == stored


def test_recomputing_sets_the_ends_of_rows_written_by_hand(rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    move(deal, rep, stage_id=by_name["Proposal"].pk)
    StageChange.objects.update(ended_at=None, ended_by=None, ended_kind="", ended_to_stage=None)
    assert stage_changes_link_stays([deal.pk]) == 1
    assert stage_changes_link_stays([]) == 0
    assert stored_ends() == computed_ends()


def test_the_migration_copies_how_each_existing_stay_ended(rep, by_name):
    backfill = importlib.import_module("pipeline.migrations.0009_stay_outcomes").BACKFILL_SQL
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    move(deal, rep, stage_id=by_name["Proposal"].pk)
    move(deal, rep, outcome="lost", lost_reason="Price")
    expected = stored_ends()
    StageChange.objects.update(ended_kind="", ended_to_stage=None)
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    assert stored_ends() == expected == computed_ends()
    assert {kind for _, _, kind, _ in expected.values()} == {"stage", "lost", ""}


def test_recomputing_repairs_how_a_stay_ended_even_when_its_end_is_right(rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    move(deal, rep, stage_id=by_name["Proposal"].pk)
    expected = stored_ends()
    StageChange.objects.filter(ended_at__isnull=False).update(ended_kind="lost")
    assert stage_changes_link_stays([deal.pk]) == 1
    StageChange.objects.filter(ended_at__isnull=False).update(ended_to_stage=by_name["Closing"])
    assert stage_changes_link_stays([deal.pk]) == 1
    assert stored_ends() == expected == computed_ends()
