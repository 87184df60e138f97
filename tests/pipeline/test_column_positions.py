"""Column-safe positions: many drops into one column, at once or from one stale page.

The concurrent tests open a real PostgreSQL connection per thread and release them together
with a barrier, so the drops really race inside the database; SQLite serialises every write
transaction, so there they could not race at all. The stale-page tests run everywhere.
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from pipeline.models import Deal, StageChange
from pipeline.services import POSITION_GAP, deal_create, deal_move, stage_remove
from tests.concurrency import needs_postgresql, race

DROPS = 32  # at least 30 real connections at once


def column(stage) -> list[int]:
    return list(Deal.objects.in_column(stage).order_by("position").values_list("pk", flat=True))


def create(actor, stage, count, prefix):
    # deal_create puts each new card on top: create in reverse to read them top-down.
    cards = [deal_create(actor=actor, title=f"{prefix} {i}", stage=stage) for i in range(count)]
    return [card.pk for card in reversed(cards)]


def dropper(actor, deal_id, stage, **neighbours):
    version = Deal.objects.values_list("version", flat=True).get(pk=deal_id)
    return lambda: deal_move(
        actor=actor, deal_id=deal_id, version=version, stage_id=stage.pk, **neighbours
    )


def assert_distinct_positions(stage):
    positions = list(Deal.objects.in_column(stage).values_list("position", flat=True))
    assert None not in positions
    assert len(set(positions)) == len(positions)


def assert_blocks(final: list[int], before: list[int], top=(), after=None, before_card=None):
    """``final`` is ``before`` with each group of dropped cards as one block (in any order):
    ``top`` first, ``after[c]`` directly after card c, ``before_card[c]`` directly before c."""
    after, before_card = after or {}, before_card or {}
    segments = [set(top)]
    for card in before:
        segments += [set(before_card.get(card, ())), {card}, set(after.get(card, ()))]
    rest = list(final)
    for segment in segments:
        block, rest = rest[: len(segment)], rest[len(segment) :]
        assert set(block) == segment, (block, segment, final)
    assert rest == []


def assert_places_true_at_commit(final: list[int], before: list[int], places: dict[int, tuple]):
    """Each move's announced (place, cards) is what the column held when it committed.

    Moves into one column commit one at a time, each adding one card; the cards already
    there keep their order. So the announced counts are consecutive, and replaying the
    moves in that order gives each card's place at its own commit.
    """
    order = sorted(places, key=lambda pk: places[pk][1])
    assert [places[pk][1] for pk in order] == list(range(len(before) + 1, len(final) + 1))
    present = set(before)
    for pk in order:
        present.add(pk)
        seen = [card for card in final if card in present]
        assert places[pk] == (seen.index(pk) + 1, len(seen)), pk


@pytest.fixture
def setup(admin, by_name):
    """Eight cards in Proposal, and DROPS cards waiting in Qualify to be dropped there."""
    proposal, qualify = by_name["Proposal"], by_name["Qualify"]
    existing = create(admin, proposal, 8, "Existing")
    movers = create(admin, qualify, DROPS, "Mover")
    return proposal, existing, movers


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_many_drops_to_the_top_at_once_form_one_block_on_top(admin, setup):
    proposal, existing, movers = setup
    results = race([dropper(admin, pk, proposal) for pk in movers])
    final = column(proposal)
    assert_distinct_positions(proposal)
    assert_blocks(final, existing, top=movers)
    assert_places_true_at_commit(final, existing, {r.deal.pk: r.place for r in results})


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_many_drops_below_the_same_card_at_once_form_one_block_directly_below_it(admin, setup):
    proposal, existing, movers = setup
    anchor = existing[2]
    results = race([dropper(admin, pk, proposal, above_id=anchor) for pk in movers])
    final = column(proposal)
    assert_distinct_positions(proposal)
    assert_blocks(final, existing, after={anchor: movers})
    assert_places_true_at_commit(final, existing, {r.deal.pk: r.place for r in results})


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_many_drops_between_the_same_two_cards_at_once_land_between_them(admin, setup):
    proposal, existing, movers = setup
    above, below = existing[4], existing[5]
    jobs = [dropper(admin, pk, proposal, above_id=above, below_id=below) for pk in movers]
    results = race(jobs)
    final = column(proposal)
    assert_distinct_positions(proposal)
    assert_blocks(final, existing, after={above: movers})
    assert_places_true_at_commit(final, existing, {r.deal.pk: r.place for r in results})
    # 32 drops into one gap use it up more than once: the column was renumbered meanwhile.
    assert StageChange.objects.filter(kind="stage", to_stage=proposal).count() == DROPS


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_drops_racing_a_renumbering_keep_every_card_where_it_was_asked(admin, setup):
    proposal, existing, movers = setup
    # No room at all between the first two cards: the first drop there renumbers the column
    # while the other drops (to the top, below other cards, above a card) wait or follow.
    Deal.objects.filter(pk=existing[0]).update(position=-(1 << 40))
    Deal.objects.filter(pk=existing[1]).update(position=-(1 << 40) + 1)
    groups = {
        "gap": movers[0:8],
        "top": movers[8:14],
        "below": movers[14:22],
        "above": movers[22:26],
        "last": movers[26:],
    }
    jobs = (
        [dropper(admin, pk, proposal, above_id=existing[0]) for pk in groups["gap"]]
        + [dropper(admin, pk, proposal) for pk in groups["top"]]
        + [dropper(admin, pk, proposal, above_id=existing[5]) for pk in groups["below"]]
        + [dropper(admin, pk, proposal, below_id=existing[3]) for pk in groups["above"]]
        + [dropper(admin, pk, proposal, above_id=existing[7]) for pk in groups["last"]]
    )
    results = race(jobs)
    final = column(proposal)
    assert_distinct_positions(proposal)
    assert_blocks(
        final,
        existing,
        top=groups["top"],
        after={
            existing[0]: groups["gap"],
            existing[5]: groups["below"],
            existing[7]: groups["last"],
        },
        before_card={existing[3]: groups["above"]},
    )
    assert_places_true_at_commit(final, existing, {r.deal.pk: r.place for r in results})
    positions = sorted(Deal.objects.in_column(proposal).values_list("position", flat=True))
    assert min(b - a for a, b in zip(positions, positions[1:], strict=False)) > 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_drops_racing_a_stage_removal_all_end_in_one_column(admin, by_name, setup):
    """An admin removes Negotiation (its deals go to Proposal) while reps drop cards into
    both: no card is left in the removed stage and Proposal keeps distinct positions."""
    proposal, existing, movers = setup
    negotiation = by_name["Negotiation"]
    doomed = create(admin, negotiation, 5, "Doomed")
    jobs = [dropper(admin, pk, negotiation) for pk in movers[:12]]
    jobs += [dropper(admin, pk, proposal, above_id=existing[0]) for pk in movers[12:]]
    jobs.append(
        lambda: stage_remove(actor=admin, stage_id=negotiation.pk, target_stage_id=proposal.pk)
    )
    outcomes = race(jobs, may_fail=True)
    # Drops that came after the removal are refused with a clear message; nothing else fails.
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert all("has been removed" in str(f) for f in failures), failures
    assert not Deal.objects.filter(stage=negotiation).exists()
    assert_distinct_positions(proposal)
    assert set(column(proposal)) >= set(existing) | set(doomed) | set(movers[12:])


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_forty_sessions_dropping_over_http_at_once_get_true_places(admin, setup, by_name):
    """The running product: one logged-in browser session per drop, through the board's
    move endpoint, each answer announcing the place the card has at commit."""
    proposal, existing, movers = setup
    extra = create(admin, by_name["Prospect"], 40 - DROPS, "Late")
    movers = movers + extra
    anchor = existing[3]
    versions = dict(Deal.objects.filter(pk__in=movers).values_list("pk", "version"))
    clients = []
    for _ in movers:
        client = Client()
        client.force_login(admin)
        clients.append(client)

    def post(client, pk):
        def job():
            response = client.post(
                f"/deals/{pk}/move",
                {
                    "version": versions[pk],
                    "stage": proposal.pk,
                    "above": anchor,
                    "context": "board",
                },
                HTTP_HX_REQUEST="true",
            )
            assert response.status_code == 200, response.content
            message = json.loads(response["HX-Trigger"])["crm:announce"]["message"]
            place, total = re.search(r"position (\d+) of (\d+)", message).groups()
            return pk, (int(place), int(total))

        return job

    results = race([post(client, pk) for client, pk in zip(clients, movers, strict=True)])
    final = column(proposal)
    assert_distinct_positions(proposal)
    assert_blocks(final, existing, after={anchor: movers})
    assert_places_true_at_commit(final, existing, dict(results))


def test_forty_drops_from_one_stale_page_form_one_block_between_the_named_cards(admin, setup):
    """40 browsers showing the same board, one after another: each names the same two
    neighbours, and each card still lands directly below the card above it."""
    proposal, existing, movers = setup
    above, below = existing[1], existing[2]
    places = {}
    for pk in movers:
        result = dropper(admin, pk, proposal, above_id=above, below_id=below)()
        places[pk] = result.place
        # The newest drop is directly below the named card, the earlier ones under it.
        final = column(proposal)
        assert final[final.index(above) + 1] == pk
    final = column(proposal)
    assert_distinct_positions(proposal)
    assert_blocks(final, existing, after={above: movers})
    assert final.index(below) == final.index(above) + len(movers) + 1
    assert_places_true_at_commit(final, existing, places)


def test_drops_naming_only_the_card_below_form_one_block_directly_above_it(admin, setup):
    proposal, existing, movers = setup
    below = existing[6]
    places = {}
    for pk in movers[:12]:
        places[pk] = dropper(admin, pk, proposal, below_id=below)().place
    final = column(proposal)
    assert final[final.index(below) - 1] == movers[11]
    assert_blocks(final, existing, before_card={below: movers[:12]})
    assert_places_true_at_commit(final, existing, places)


def test_a_neighbour_that_left_the_column_is_ignored(admin, by_name, setup):
    proposal, existing, movers = setup
    gone = existing[2]
    deal_move(
        actor=admin,
        deal_id=gone,
        version=Deal.objects.get(pk=gone).version,
        stage_id=by_name["Prospect"].pk,
    )
    # Named above but gone: the card goes directly above the card named below it.
    result = dropper(admin, movers[0], proposal, above_id=gone, below_id=existing[4])()
    final = column(proposal)
    assert final[final.index(existing[4]) - 1] == movers[0]
    assert result.place == (final.index(movers[0]) + 1, len(final))
    # Both gone: the top of the column.
    dropper(admin, movers[1], proposal, above_id=gone, below_id=movers[5])()
    assert column(proposal)[0] == movers[1]


def test_a_repeated_drop_below_the_same_card_changes_nothing(admin, setup):
    proposal, existing, movers = setup
    first = dropper(admin, movers[0], proposal, above_id=existing[0])()
    again = dropper(admin, movers[0], proposal, above_id=existing[0])()
    assert first.changed and not again.changed
    assert Deal.objects.get(pk=movers[0]).version == first.deal.version


def test_the_database_refuses_two_cards_in_one_place(admin, setup):
    proposal, existing, _movers = setup
    taken = Deal.objects.get(pk=existing[0]).position
    with pytest.raises(IntegrityError), transaction.atomic():
        Deal.objects.filter(pk=existing[1]).update(position=taken)


def test_deals_on_no_column_hold_no_position_and_reopen_on_top(admin, by_name, setup):
    proposal, existing, _movers = setup
    lost = existing[3]
    version = Deal.objects.get(pk=lost).version
    deal_move(actor=admin, deal_id=lost, version=version, outcome="lost", lost_reason="Price")
    assert Deal.objects.get(pk=lost).position is None
    # Its old place is free again, and reopening puts it on top of the chosen column.
    result = deal_move(actor=admin, deal_id=lost, version=version + 1, stage_id=proposal.pk)
    assert column(proposal)[0] == lost and result.place == (1, len(existing))


def test_winning_into_the_post_sale_stage_takes_a_place_in_its_column(admin, by_name, setup):
    _proposal, existing, _movers = setup
    won = by_name["Follow-up"]
    for pk in existing[:3]:
        version = Deal.objects.get(pk=pk).version
        result = deal_move(actor=admin, deal_id=pk, version=version, outcome="won")
        assert result.place == (1, existing[:3].index(pk) + 1)
    assert column(won) == list(reversed(existing[:3]))
    assert_distinct_positions(won)


def test_a_stage_becoming_the_post_sale_stage_gives_its_won_deals_places(admin, by_name, rep):
    """Won deals of a pipeline without a post-sale stage are on no column; when an admin
    makes their stage the post-sale stage they join its column, in distinct places."""
    from pipeline.services import stage_update

    follow_up, closing = by_name["Follow-up"], by_name["Closing"]
    stage_update(actor=admin, stage_id=follow_up.pk, is_won=False)
    deals = create(admin, closing, 3, "Signed")
    for pk in deals:
        version = Deal.objects.get(pk=pk).version
        deal_move(actor=admin, deal_id=pk, version=version, outcome="won")
    assert set(Deal.objects.filter(pk__in=deals).values_list("position", flat=True)) == {None}
    stage_update(actor=admin, stage_id=closing.pk, is_won=True)
    closing.refresh_from_db()
    assert sorted(column(closing)) == sorted(deals)
    assert_distinct_positions(closing)
    assert POSITION_GAP in Deal.objects.in_column(closing).values_list("position", flat=True)
