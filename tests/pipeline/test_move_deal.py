"""The one writer of a deal's stage, status and position."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from pipeline.models import Deal, StageChange
from pipeline.services import (
    POSITION_GAP,
    Invalid,
    NotFound,
    StaleDeal,
    deal_create,
    deal_move,
)
from tests.factories import DealFactory, PipelineFactory, StageFactory
from tests.queries import count_statements

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep, by_name):
    return deal_create(
        actor=rep, title="Acme renewal", stage=by_name["Qualify"], value=Decimal(5000)
    )


def move(deal, actor, **kwargs):
    deal.refresh_from_db()
    return deal_move(actor=actor, deal_id=deal.pk, version=deal.version, **kwargs)


def column(stage):
    return list(Deal.objects.open().filter(stage=stage).order_by("position", "id"))


def history(deal):
    return list(
        deal.stage_changes.order_by("id").values_list(
            "kind", "from_stage__name", "to_stage__name", "to_status"
        )
    )


def test_creating_a_deal_writes_its_first_history_row(deal, rep):
    assert history(deal) == [("created", None, "Qualify", "open")]
    assert deal.stage_changes.get().changed_by == rep
    assert deal.owner == rep


def test_moving_forward_changes_stage_and_records_who_and_when(deal, rep, by_name):
    entered_before = deal.stage_entered_at
    result = move(deal, rep, stage_id=by_name["Proposal"].pk)
    deal.refresh_from_db()
    assert deal.stage == by_name["Proposal"]
    assert deal.version == 2
    assert deal.stage_entered_at > entered_before
    assert result.change.changed_by == rep
    assert result.change.changed_at == deal.stage_entered_at
    assert history(deal)[-1] == ("stage", "Qualify", "Proposal", "open")


def test_moving_backwards_is_allowed_and_recorded(deal, rep, by_name):
    move(deal, rep, stage_id=by_name["Negotiation"].pk)
    move(deal, rep, stage_id=by_name["Prospect"].pk)
    deal.refresh_from_db()
    assert deal.stage == by_name["Prospect"]
    assert history(deal)[-1] == ("stage", "Negotiation", "Prospect", "open")


def test_a_moved_card_lands_between_the_cards_it_was_dropped_between(rep, by_name, deal):
    proposal = by_name["Proposal"]
    first, second = (deal_create(actor=rep, title=t, stage=proposal) for t in ("First", "Second"))
    top, bottom = column(proposal)
    move(deal, rep, stage_id=proposal.pk, above_id=top.pk, below_id=bottom.pk)
    assert [d.title for d in column(proposal)] == [top.title, "Acme renewal", bottom.title]


def test_a_card_dropped_with_no_neighbours_goes_to_the_top(rep, by_name, deal):
    proposal = by_name["Proposal"]
    deal_create(actor=rep, title="Existing", stage=proposal)
    move(deal, rep, stage_id=proposal.pk)
    assert [d.title for d in column(proposal)] == ["Acme renewal", "Existing"]


def test_reordering_within_a_column_writes_a_reorder_row_and_keeps_stage_time(rep, by_name, deal):
    qualify = by_name["Qualify"]
    other = deal_create(actor=rep, title="Other", stage=qualify)
    assert [d.title for d in column(qualify)] == ["Other", "Acme renewal"]
    entered = Deal.objects.get(pk=deal.pk).stage_entered_at
    move(deal, rep, stage_id=qualify.pk, below_id=other.pk)
    assert [d.title for d in column(qualify)] == ["Acme renewal", "Other"]
    deal.refresh_from_db()
    assert deal.stage_entered_at == entered
    assert history(deal)[-1] == ("reorder", "Qualify", "Qualify", "open")


def test_repeating_a_drop_where_the_card_already_is_changes_nothing(rep, by_name, deal):
    qualify = by_name["Qualify"]
    other = deal_create(actor=rep, title="Other", stage=qualify)
    result = move(deal, rep, stage_id=qualify.pk, above_id=other.pk)
    assert not result.changed
    deal.refresh_from_db()
    assert deal.version == 1
    assert len(history(deal)) == 1


def test_reordering_never_renumbers_the_column_on_an_ordinary_move(rep, by_name):
    stage = by_name["Prospect"]
    cards = [deal_create(actor=rep, title=f"D{i}", stage=stage) for i in range(5)]
    before = {d.pk: d.position for d in column(stage)}
    a, b = column(stage)[1:3]
    move(cards[0], rep, stage_id=stage.pk, above_id=a.pk, below_id=b.pk)
    after = {d.pk: d.position for d in column(stage)}
    assert {pk for pk in before if before[pk] != after[pk]} == {cards[0].pk}


def test_a_used_up_gap_renumbers_that_column_once_and_keeps_the_order(rep, by_name):
    stage = by_name["Prospect"]
    low, high, mover = (
        deal_create(actor=rep, title=t, stage=stage) for t in ("Low", "High", "Mover")
    )
    Deal.objects.filter(pk=low.pk).update(position=10)
    Deal.objects.filter(pk=high.pk).update(position=11)
    Deal.objects.filter(pk=mover.pk).update(position=500)
    move(mover, rep, stage_id=stage.pk, above_id=low.pk, below_id=high.pk)
    assert [d.title for d in column(stage)] == ["Low", "Mover", "High"]
    positions = [d.position for d in column(stage)]
    assert min(b - a for a, b in zip(positions, positions[1:], strict=False)) > 1


def test_winning_moves_the_deal_into_the_post_sale_stage(rep, by_name, deal):
    move(deal, rep, outcome="won")
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WON
    assert deal.stage == by_name["Follow-up"]
    assert deal.closed_at is not None
    assert history(deal)[-1] == ("won", "Qualify", "Follow-up", "won")


def test_dragging_into_the_post_sale_stage_wins_the_deal(rep, by_name, deal):
    move(deal, rep, stage_id=by_name["Follow-up"].pk)
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WON
    assert history(deal)[-1][0] == "won"


def test_winning_in_a_pipeline_without_a_post_sale_stage_keeps_the_stage(rep):
    stage = StageFactory(pipeline=PipelineFactory(), name="Quote")
    deal = deal_create(actor=rep, title="No follow-up stage", stage=stage)
    move(deal, rep, outcome="won")
    deal.refresh_from_db()
    assert (deal.status, deal.stage) == (Deal.Status.WON, stage)


def test_losing_needs_a_reason_and_keeps_the_stage_it_was_lost_from(rep, by_name, deal):
    with pytest.raises(Invalid, match="why"):
        move(deal, rep, outcome="lost", lost_reason="   ")
    move(deal, rep, outcome="lost", lost_reason="Chose a competitor")
    deal.refresh_from_db()
    assert (deal.status, deal.stage, deal.lost_reason) == (
        "lost",
        by_name["Qualify"],
        "Chose a competitor",
    )
    assert history(deal)[-1] == ("lost", "Qualify", "Qualify", "lost")
    assert deal.stage_changes.last().note == "Chose a competitor"


def test_a_lost_deal_can_be_reopened_into_any_stage(rep, by_name, deal):
    move(deal, rep, outcome="lost", lost_reason="Timing")
    move(deal, rep, stage_id=by_name["Proposal"].pk)
    deal.refresh_from_db()
    assert (deal.status, deal.stage, deal.lost_reason, deal.closed_at) == (
        "open",
        by_name["Proposal"],
        "",
        None,
    )
    assert history(deal)[-1] == ("reopened", "Qualify", "Proposal", "open")


def test_a_won_deal_moved_back_to_an_open_stage_is_reopened(rep, by_name, deal):
    move(deal, rep, outcome="won")
    move(deal, rep, stage_id=by_name["Closing"].pk)
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN
    assert history(deal)[-1] == ("reopened", "Follow-up", "Closing", "open")


def test_a_stale_version_is_refused_and_nothing_changes(rep, by_name, deal):
    with pytest.raises(StaleDeal) as refused:
        deal_move(
            actor=rep, deal_id=deal.pk, version=deal.version + 5, stage_id=by_name["Proposal"].pk
        )
    assert refused.value.deal.stage == by_name["Qualify"]
    deal.refresh_from_db()
    assert deal.stage == by_name["Qualify"] and deal.version == 1
    assert len(history(deal)) == 1


def test_a_stage_of_another_pipeline_is_refused(rep, deal):
    foreign = StageFactory(pipeline=PipelineFactory())
    with pytest.raises(Invalid, match="another pipeline"):
        move(deal, rep, stage_id=foreign.pk)
    assert len(history(deal)) == 1


def test_an_archived_or_unknown_stage_is_refused(rep, by_name, deal):
    by_name["Proposal"].is_archived = True
    by_name["Proposal"].save()
    with pytest.raises(Invalid, match="removed"):
        move(deal, rep, stage_id=by_name["Proposal"].pk)
    with pytest.raises(Invalid, match="does not exist"):
        move(deal, rep, stage_id=999_999)


def test_another_users_deal_is_not_found(outsider, deal, by_name):
    with pytest.raises(NotFound):
        deal_move(
            actor=outsider, deal_id=deal.pk, version=deal.version, stage_id=by_name["Proposal"].pk
        )
    deal.refresh_from_db()
    assert deal.stage == by_name["Qualify"]


def test_a_manager_can_move_a_deal_of_their_team(manager, deal, by_name):
    move(deal, manager, stage_id=by_name["Proposal"].pk)
    assert deal.stage_changes.last().changed_by == manager


def test_a_move_needs_either_a_stage_or_an_outcome(rep, deal, by_name):
    with pytest.raises(Invalid):
        move(deal, rep)
    with pytest.raises(Invalid):
        move(deal, rep, stage_id=by_name["Proposal"].pk, outcome="won")


def test_a_move_takes_at_most_seven_statements(rep, by_name, deal):
    proposal = by_name["Proposal"]
    a, b = (deal_create(actor=rep, title=t, stage=proposal) for t in "AB")
    deal.refresh_from_db()
    with count_statements() as statements:
        deal_move(
            actor=rep,
            deal_id=deal.pk,
            version=deal.version,
            stage_id=proposal.pk,
            above_id=b.pk,
            below_id=a.pk,
        )

    # Lock the two columns (and read their stages), lock the deal, read the slot below the
    # card above, UPDATE the deal, INSERT its history row, UPDATE where the previous stay
    # ended, and count the card's place under the lock.
    assert len(statements) <= 7, statements


def test_new_cards_go_to_the_top_with_room_to_spare(rep, by_name):
    first = deal_create(actor=rep, title="First", stage=by_name["Prospect"])
    second = deal_create(actor=rep, title="Second", stage=by_name["Prospect"])
    assert first.position - second.position == POSITION_GAP


def test_a_deal_cannot_be_created_in_the_won_stage(rep, by_name):
    with pytest.raises(Invalid):
        deal_create(actor=rep, title="Straight to won", stage=by_name["Follow-up"])


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks that make a second transaction wait; SQLite has none "
    "(select_for_update does nothing there) and refuses a second writer instead",
)
@pytest.mark.django_db(transaction=True)
def test_two_people_moving_the_same_deal_at_once_one_wins_and_one_is_told(rep, manager, by_name):
    deal = DealFactory(owner=rep, stage=by_name["Qualify"])
    version = deal.version
    barrier = threading.Barrier(2)
    outcomes = {}

    def attempt(name, actor, stage):
        try:
            barrier.wait(timeout=5)
            deal_move(actor=actor, deal_id=deal.pk, version=version, stage_id=stage.pk)
            outcomes[name] = "moved"
        except StaleDeal:
            outcomes[name] = "stale"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=attempt, args=("rep", rep, by_name["Proposal"])),
        threading.Thread(target=attempt, args=("manager", manager, by_name["Negotiation"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes.values()) == ["moved", "stale"]
    deal.refresh_from_db()
    winner = next(name for name, result in outcomes.items() if result == "moved")
    expected = by_name["Proposal"] if winner == "rep" else by_name["Negotiation"]
    assert deal.stage == expected and deal.version == version + 1
    assert StageChange.objects.filter(deal=deal).count() == 1
