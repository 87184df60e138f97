"""The deal page (stage bar, edit, activities, timeline) and the won and lost lists."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse

from pipeline.models import Activity, Deal, StageChange
from pipeline.services import activity_create, deal_create, deal_move
from tests.factories import ActivityFactory, DealFactory
from tests.queries import count_statements

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep, by_name):
    return deal_create(
        actor=rep, title="Acme renewal", stage=by_name["Qualify"], value=Decimal(5000)
    )


def page(client, deal):
    return client.get(reverse("deal_detail", args=[deal.pk]))


# ---- Who sees the page ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
def test_the_owner_their_manager_and_admins_see_the_deal_page(client, deal, who, request):
    client.force_login(request.getfixturevalue(who))
    response = page(client, deal)
    assert response.status_code == 200
    assert "Acme renewal" in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "other_rep"])
def test_anyone_else_gets_404(client, deal, who, request):
    client.force_login(request.getfixturevalue(who))
    assert page(client, deal).status_code == 404


def test_the_page_shows_time_spent_in_each_stage_and_the_timeline(client, rep, deal, by_name):
    StageChange.objects.filter(deal=deal).update(changed_at=deal.created_at - dt.timedelta(days=9))
    deal_move(actor=rep, deal_id=deal.pk, version=deal.version, stage_id=by_name["Proposal"].pk)
    client.force_login(rep)
    html = page(client, deal).content.decode()
    assert "Moved from Qualify to <strong>Proposal</strong>" in html
    assert "after 9 days in Qualify" in html
    assert "9d" in html


# ---- Moving from the page ----------------------------------------------------------------


def move_from_page(client, deal, **data):
    deal.refresh_from_db()
    payload = {"version": deal.version, "next": reverse("deal_detail", args=[deal.pk]), **data}
    return client.post(reverse("deal_move", args=[deal.pk]), payload)


def test_clicking_a_stage_in_the_stage_bar_moves_the_deal(client, rep, deal, by_name):
    client.force_login(rep)
    response = move_from_page(client, deal, stage=by_name["Negotiation"].pk)
    assert response.status_code == 302
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])
    deal.refresh_from_db()
    assert deal.stage == by_name["Negotiation"]
    assert deal.stage_changes.last().changed_by == rep


def test_a_stale_page_shows_an_error_and_changes_nothing(client, rep, manager, deal, by_name):
    client.force_login(rep)
    version = deal.version
    deal_move(actor=manager, deal_id=deal.pk, version=version, stage_id=by_name["Closing"].pk)
    response = client.post(
        reverse("deal_move", args=[deal.pk]),
        {"version": version, "stage": by_name["Proposal"].pk},
        follow=True,
    )
    assert "changed by someone else" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == by_name["Closing"]


def test_an_unsafe_next_url_is_ignored(client, rep, deal, by_name):
    client.force_login(rep)
    response = move_from_page(
        client, deal, stage=by_name["Proposal"].pk, next="https://evil.example/"
    )
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])


def test_losing_and_reopening_from_the_page(client, rep, deal, by_name):
    client.force_login(rep)
    move_from_page(
        client, deal, outcome="lost", lost_reason_choice="No budget", lost_reason="frozen"
    )
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == ("lost", "frozen")
    move_from_page(client, deal, stage=by_name["Proposal"].pk)
    deal.refresh_from_db()
    assert (deal.status, deal.stage) == ("open", by_name["Proposal"])


# ---- Editing ------------------------------------------------------------------------------


def edit(client, deal, **changes):
    deal.refresh_from_db()
    data = {
        "version": deal.version,
        "title": deal.title,
        "value": str(deal.value),
        "currency": deal.currency,
        "expected_close_date": "",
        "owner": deal.owner_id,
        "organization_name": "",
        "contact_name": "",
        **changes,
    }
    return client.post(reverse("deal_edit", args=[deal.pk]), data)


def test_editing_saves_the_fields_and_bumps_the_version(client, rep, deal):
    client.force_login(rep)
    response = edit(
        client,
        deal,
        title="Acme 2027",
        value="7500",
        expected_close_date="2027-01-15",
        organization_name="Acme GmbH",
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.value, str(deal.expected_close_date)) == (
        "Acme 2027",
        Decimal("7500"),
        "2027-01-15",
    )
    assert deal.organization.name == "Acme GmbH"
    assert deal.version == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"title": ""},
        {"value": "-1"},
        {"currency": "euro"},
        {"expected_close_date": "31/31/2026"},
        {"version": "x"},
    ],
)
def test_bad_edits_are_422_with_the_error_and_save_nothing(client, rep, deal, changes):
    client.force_login(rep)
    response = edit(client, deal, **changes)
    assert response.status_code == 422
    assert (
        'class="field-error"' in response.content.decode()
        or "form-errors" in response.content.decode()
    )
    deal.refresh_from_db()
    assert (deal.title, deal.value, deal.version) == ("Acme renewal", Decimal("5000"), 1)


def test_a_rep_cannot_give_a_deal_to_someone_else(client, rep, other_rep, deal):
    client.force_login(rep)
    assert edit(client, deal, owner=other_rep.pk).status_code == 422
    deal.refresh_from_db()
    assert deal.owner == rep


def test_a_manager_can_reassign_within_the_team(client, manager, other_rep, deal):
    client.force_login(manager)
    assert edit(client, deal, owner=other_rep.pk).status_code == 302
    deal.refresh_from_db()
    assert deal.owner == other_rep


def test_a_stale_edit_is_refused(client, rep, deal, by_name):
    client.force_login(rep)
    old_version = deal.version
    deal_move(actor=rep, deal_id=deal.pk, version=old_version, stage_id=by_name["Proposal"].pk)
    response = edit(client, deal, version=old_version, title="Overwrite")
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else" in html
    assert 'value="Overwrite"' in html  # what was typed is kept, to save again on purpose
    deal.refresh_from_db()
    assert deal.title == "Acme renewal"


def test_editing_needs_post_and_an_outsider_gets_404(client, outsider, deal):
    client.force_login(outsider)
    assert client.get(reverse("deal_edit", args=[deal.pk])).status_code == 405
    assert edit(client, deal, title="Mine now").status_code == 404


# ---- Activities ---------------------------------------------------------------------------


def test_planning_an_activity_reads_the_time_in_the_users_time_zone(client, rep, deal):
    rep.time_zone = "America/New_York"
    rep.save()
    client.force_login(rep)
    response = client.post(
        reverse("activity_add", args=[deal.pk]),
        {
            "kind": "call",
            "subject": "Pricing call",
            "due_date": "2027-03-15",
            "due_time": "10:30",
            "assignee": rep.pk,
        },
    )
    assert response.status_code == 302
    activity = Activity.objects.get(subject="Pricing call")
    local = activity.due_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert (local.date(), local.hour, local.minute) == (dt.date(2027, 3, 15), 10, 30)
    assert activity.deal == deal and activity.created_by == rep


def test_a_bad_activity_is_422_and_nothing_is_planned(client, rep, deal):
    client.force_login(rep)
    response = client.post(
        reverse("activity_add", args=[deal.pk]), {"kind": "party", "subject": "", "due_date": "x"}
    )
    assert response.status_code == 422
    assert not Activity.objects.exists()


def test_completing_an_activity_is_idempotent(client, rep, deal):
    activity = activity_create(
        actor=rep, deal=deal, kind="task", subject="Send deck", due_at=deal.created_at, assignee=rep
    )
    client.force_login(rep)
    url = reverse("activity_complete", args=[activity.pk])
    assert client.post(url).status_code == 302
    activity.refresh_from_db()
    first_done = activity.done_at
    assert first_done is not None
    client.post(url)
    activity.refresh_from_db()
    assert activity.done_at == first_done
    assert client.get(url).status_code == 405


def test_an_outsider_cannot_complete_someone_elses_activity(client, outsider, deal):
    activity = ActivityFactory(deal=deal)
    client.force_login(outsider)
    assert client.post(reverse("activity_complete", args=[activity.pk])).status_code == 404
    activity.refresh_from_db()
    assert activity.done_at is None


# ---- Won and lost lists -------------------------------------------------------------------


def test_the_lost_list_shows_visible_lost_deals_and_reopens_them(client, rep, outsider, by_name):
    mine = deal_create(actor=rep, title="Mine lost", stage=by_name["Proposal"])
    deal_move(actor=rep, deal_id=mine.pk, version=1, outcome="lost", lost_reason="Timing")
    theirs = deal_create(actor=outsider, title="Theirs lost", stage=by_name["Proposal"])
    deal_move(actor=outsider, deal_id=theirs.pk, version=1, outcome="lost", lost_reason="Price")
    client.force_login(rep)
    url = reverse("deals_lost", args=[by_name["Proposal"].pipeline_id])
    html = client.get(url).content.decode()
    assert "Mine lost" in html and "Timing" in html and "Theirs lost" not in html
    client.post(
        reverse("deal_move", args=[mine.pk]),
        {"version": 2, "stage": by_name["Qualify"].pk, "next": url},
    )
    mine.refresh_from_db()
    assert (mine.status, mine.stage) == ("open", by_name["Qualify"])


def test_the_won_list_and_its_empty_state(client, rep, by_name):
    client.force_login(rep)
    url = reverse("deals_won", args=[by_name["Proposal"].pipeline_id])
    assert "No won deals yet" in client.get(url).content.decode()
    deal = deal_create(actor=rep, title="Big win", stage=by_name["Closing"])
    deal_move(actor=rep, deal_id=deal.pk, version=1, outcome="won")
    assert "Big win" in client.get(url).content.decode()


@pytest.mark.parametrize("page_number", ["abc", "-1", "9999", ""])
def test_odd_page_numbers_never_fail(client, rep, default_pipeline, page_number):
    client.force_login(rep)
    assert (
        client.get(
            reverse("deals_lost", args=[default_pipeline.pk]), {"page": page_number}
        ).status_code
        == 200
    )


# ---- Query counts -------------------------------------------------------------------------


def test_the_deal_page_costs_the_same_queries_with_a_long_history(client, rep, deal, by_name):
    client.force_login(rep)
    with count_statements() as short:
        page(client, deal)
    for _ in range(6):
        deal.refresh_from_db()
        target = by_name["Proposal"] if deal.stage == by_name["Qualify"] else by_name["Qualify"]
        deal_move(actor=rep, deal_id=deal.pk, version=deal.version, stage_id=target.pk)
        ActivityFactory(deal=deal, assignee=rep)
    with count_statements() as long:
        page(client, deal)
    assert len(short) == len(long)


def test_the_lost_list_costs_the_same_queries_at_two_sizes(client, rep, by_name):
    client.force_login(rep)
    url = reverse("deals_lost", args=[by_name["Proposal"].pipeline_id])

    def lose(count):
        for _ in range(count):
            DealFactory(
                owner=rep,
                stage=by_name["Proposal"],
                status="lost",
                lost_reason="Price",
                closed_at=Deal().created_at,
            )

    lose(3)
    with count_statements() as small:
        client.get(url)
    lose(40)
    with count_statements() as large:
        client.get(url)
    assert len(small) == len(large)


def test_a_deal_moves_to_another_pipeline_from_its_page(client, admin, rep, deal):
    from pipeline.services import pipeline_create

    renewals = pipeline_create(actor=admin, name="Renewals", template="quote")
    target = renewals.stages.get(name="Quote")
    client.force_login(rep)
    assert "Renewals" in page(client, deal).content.decode()
    move_from_page(client, deal, stage=target.pk, other_pipeline="1")
    deal.refresh_from_db()
    assert (deal.pipeline, deal.stage) == (renewals, target)
    assert deal.stage_changes.last().kind == "pipeline"


def test_a_board_move_cannot_cross_pipelines(client, admin, rep, deal):
    from pipeline.services import pipeline_create

    target = pipeline_create(actor=admin, name="Renewals", template="quote").stages.first()
    client.force_login(rep)
    deal.refresh_from_db()
    response = client.post(
        reverse("deal_move", args=[deal.pk]),
        {"version": deal.version, "stage": target.pk, "other_pipeline": "1", "context": "board"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
