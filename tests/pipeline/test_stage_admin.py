"""Stage and pipeline administration: rename, reorder, add, remove with reassignment."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections

from accounts.models import AuditEntry
from pipeline.models import Pipeline, Stage, StageChange
from pipeline.services import (
    Invalid,
    StaleConfiguration,
    deal_create,
    deal_move,
    pipeline_archive,
    pipeline_create,
    stage_add,
    stage_remove,
    stage_reorder,
    stage_update,
)

pytestmark = pytest.mark.django_db


def names(pipeline):
    return list(
        Stage.objects.active()
        .filter(pipeline=pipeline)
        .order_by("position")
        .values_list("name", flat=True)
    )


def test_renaming_a_stage_keeps_its_deals_and_history(admin, rep, by_name, default_pipeline):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Proposal"])
    stage_update(actor=admin, stage_id=by_name["Proposal"].pk, name="Offer sent")
    deal.refresh_from_db()
    assert deal.stage.name == "Offer sent"
    assert deal.stage_changes.get().to_stage.name == "Offer sent"
    assert "Offer sent" in names(default_pipeline)
    entry = AuditEntry.objects.get(action="stage_changed")
    assert entry.actor == admin and "Proposal" in entry.summary and "Offer sent" in entry.summary


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "qualify"}, "already has a stage"),
        ({"name": "  "}, "needs a name"),
        ({"probability": 101}, "between 0 and 100"),
        ({"probability": -1}, "between 0 and 100"),
        ({"rotting_days": 0}, "Rotting days"),
    ],
)
def test_bad_stage_values_are_refused_and_nothing_changes(admin, by_name, values, message):
    with pytest.raises(Invalid, match=message):
        stage_update(actor=admin, stage_id=by_name["Proposal"].pk, **values)
    by_name["Proposal"].refresh_from_db()
    assert (by_name["Proposal"].name, by_name["Proposal"].probability) == ("Proposal", 40)
    assert not AuditEntry.objects.exists()


def test_adding_a_stage_at_a_position(admin, default_pipeline):
    stage_add(actor=admin, pipeline_id=default_pipeline.pk, name="Demo", position=2, probability=30)
    assert names(default_pipeline) == [
        "Prospect",
        "Qualify",
        "Demo",
        "Proposal",
        "Negotiation",
        "Closing",
        "Follow-up",
    ]


def test_reordering_stages(admin, default_pipeline, stages):
    new_order = [stages[1], stages[0], *stages[2:]]
    stage_reorder(actor=admin, pipeline_id=default_pipeline.pk, stage_ids=[s.pk for s in new_order])
    assert names(default_pipeline)[:2] == ["Qualify", "Prospect"]
    assert AuditEntry.objects.filter(action="stages_reordered").count() == 1


@pytest.mark.parametrize("mangle", ["drop", "duplicate", "foreign"])
def test_a_reorder_that_does_not_name_every_stage_once_is_refused(
    admin, default_pipeline, stages, mangle
):
    ids = [s.pk for s in stages]
    if mangle == "drop":
        ids = ids[:-1]
    elif mangle == "duplicate":
        ids = [ids[0], *ids]
    else:
        ids = [*ids[:-1], 999_999]
    with pytest.raises(StaleConfiguration):
        stage_reorder(actor=admin, pipeline_id=default_pipeline.pk, stage_ids=ids)
    assert names(default_pipeline) == [s.name for s in stages]


def test_only_one_post_sale_stage_and_never_over_open_deals(admin, rep, by_name):
    stage_update(actor=admin, stage_id=by_name["Closing"].pk, is_won=True)
    won = list(Stage.objects.active().filter(pipeline=by_name["Closing"].pipeline, is_won=True))
    assert won == [by_name["Closing"]]
    deal_create(actor=rep, title="Open in proposal", stage=by_name["Proposal"])
    with pytest.raises(Invalid, match="open deals"):
        stage_update(actor=admin, stage_id=by_name["Proposal"].pk, is_won=True)


def test_removing_a_stage_moves_open_won_and_lost_deals_and_archives_it(
    admin, rep, by_name, default_pipeline
):
    proposal, qualify = by_name["Proposal"], by_name["Qualify"]
    open_deal = deal_create(actor=rep, title="Open", stage=proposal)
    lost_deal = deal_create(actor=rep, title="Lost", stage=proposal)
    deal_move(actor=rep, deal_id=lost_deal.pk, version=1, outcome="lost", lost_reason="Price")
    moved = stage_remove(actor=admin, stage_id=proposal.pk, target_stage_id=qualify.pk)
    assert moved == 2
    open_deal.refresh_from_db()
    lost_deal.refresh_from_db()
    assert (open_deal.stage, open_deal.status) == (qualify, "open")
    assert (lost_deal.stage, lost_deal.status, lost_deal.lost_reason) == (qualify, "lost", "Price")
    last = open_deal.stage_changes.order_by("id").last()
    assert (last.from_stage, last.to_stage, last.changed_by) == (proposal, qualify, admin)
    assert "removed" in last.note
    proposal.refresh_from_db()
    assert proposal.is_archived
    assert "Proposal" not in names(default_pipeline)
    # History that names the removed stage survives.
    assert StageChange.objects.filter(to_stage=proposal).exists()


def test_removing_a_stage_with_deals_needs_a_target(admin, rep, by_name):
    deal_create(actor=rep, title="Open", stage=by_name["Proposal"])
    with pytest.raises(Invalid, match="Choose the stage"):
        stage_remove(actor=admin, stage_id=by_name["Proposal"].pk, target_stage_id=None)
    assert not Stage.objects.get(pk=by_name["Proposal"].pk).is_archived


def test_a_pipeline_keeps_at_least_one_open_stage(admin):
    pipeline = pipeline_create(actor=admin, name="Tiny", template="empty")
    only = stage_add(actor=admin, pipeline_id=pipeline.pk, name="Only")
    with pytest.raises(Invalid, match="at least one open stage"):
        stage_remove(actor=admin, stage_id=only.pk, target_stage_id=None)


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_only_admins_change_stages_and_pipelines(request, who, by_name, default_pipeline):
    user = request.getfixturevalue(who)
    calls = [
        lambda: stage_update(actor=user, stage_id=by_name["Proposal"].pk, name="X"),
        lambda: stage_add(actor=user, pipeline_id=default_pipeline.pk, name="Y"),
        lambda: stage_remove(actor=user, stage_id=by_name["Proposal"].pk, target_stage_id=None),
        lambda: pipeline_create(actor=user, name="Z", template="empty"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert names(default_pipeline)[2] == "Proposal"
    assert Pipeline.objects.count() == 1


@pytest.mark.parametrize("template", ["six_stage", "five_step", "seven_step", "quote", "b2b_needs"])
def test_pipelines_are_created_from_the_sales_process_templates(admin, template):
    pipeline = pipeline_create(actor=admin, name=f"New {template}", template=template)
    stages = list(pipeline.stages.order_by("position"))
    assert len(stages) >= 4
    assert all(s.description and s.goal for s in stages)
    assert sum(s.is_won for s in stages) <= 1


def test_archiving_keeps_at_least_one_pipeline(admin, default_pipeline):
    with pytest.raises(Invalid):
        pipeline_archive(actor=admin, pipeline_id=default_pipeline.pk)
    other = pipeline_create(actor=admin, name="Renewals", template="quote")
    pipeline_archive(actor=admin, pipeline_id=other.pk)
    other.refresh_from_db()
    assert other.is_archived


def test_moving_a_deal_to_another_pipeline_is_recorded(admin, rep, by_name):
    renewals = pipeline_create(actor=admin, name="Renewals", template="quote")
    target = renewals.stages.get(name="Quote")
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    deal_move(actor=rep, deal_id=deal.pk, version=1, stage_id=target.pk, allow_other_pipeline=True)
    deal.refresh_from_db()
    assert (deal.pipeline, deal.stage) == (renewals, target)
    assert deal.stage_changes.last().kind == "pipeline"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks that make a second transaction wait; SQLite has none "
    "(select_for_update does nothing there) and refuses a second writer instead",
)
@pytest.mark.django_db(transaction=True)
def test_two_admins_reordering_at_once_end_with_one_consistent_order(admin, default_pipeline):
    stages = list(Stage.objects.active().filter(pipeline=default_pipeline).order_by("position"))
    ids = [s.pk for s in stages]
    orders = {"a": list(reversed(ids)), "b": [ids[1], ids[0], *ids[2:]]}
    barrier = threading.Barrier(2)
    outcomes = {}

    def attempt(name):
        try:
            barrier.wait(timeout=5)
            stage_reorder(actor=admin, pipeline_id=default_pipeline.pk, stage_ids=orders[name])
            outcomes[name] = "done"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert outcomes == {"a": "done", "b": "done"}
    final = list(
        Stage.objects.active()
        .filter(pipeline=default_pipeline)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    assert final in (orders["a"], orders["b"])
    positions = list(
        Stage.objects.active().filter(pipeline=default_pipeline).values_list("position", flat=True)
    )
    assert sorted(positions) == list(range(len(ids)))
