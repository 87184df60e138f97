"""Activities on the deal page: planning one, marking it done, and how they are shown."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Activity, Deal
from pipeline.services import Invalid, activity_complete, activity_create, deal_create
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def deal(rep, by_name):
    return deal_create(
        actor=rep, title="Acme renewal", stage=by_name["Qualify"], value=Decimal(5000)
    )


def plan(client, deal, **fields):
    data = {
        "kind": "call",
        "subject": "Pricing call",
        "due_date": "2027-03-15",
        "due_time": "10:30",
        "assignee": deal.owner_id,
        **fields,
    }
    return client.post(reverse("activity_add", args=[deal.pk]), data)


def complete(client, activity):
    return client.post(reverse("activity_complete", args=[activity.pk]))


def deal_page(client, deal) -> str:
    return client.get(reverse("deal_detail", args=[deal.pk])).content.decode()


def updated_at(deal) -> dt.datetime:
    return Deal.objects.values_list("updated_at", flat=True).get(pk=deal.pk)


# ---- Planning ---------------------------------------------------------------------------------


def test_planning_an_activity_reads_the_time_in_the_users_time_zone(client, rep, deal):
    rep.time_zone = "America/New_York"
    rep.save()
    client.force_login(rep)
    response = plan(client, deal)
    assert response.status_code == 302
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])
    activity = Activity.objects.get(subject="Pricing call")
    local = activity.due_at.astimezone(NEW_YORK)
    assert (local.date(), local.hour, local.minute) == (dt.date(2027, 3, 15), 10, 30)
    assert (activity.deal, activity.created_by, activity.assignee) == (deal, rep, rep)
    assert activity.done_at is None


def test_an_activity_without_a_time_is_due_at_nine_in_the_morning(client, rep, deal):
    client.force_login(rep)
    plan(client, deal, due_time="")
    assert Activity.objects.get().due_at == dt.datetime(2027, 3, 15, 9, 0, tzinfo=dt.UTC)


def test_the_page_shows_due_times_in_the_users_time_zone(client, rep, deal):
    rep.time_zone = "America/New_York"
    rep.save()
    due = dt.datetime(2027, 3, 15, 14, 30, tzinfo=dt.UTC)  # 10:30 in New York
    activity_create(actor=rep, deal=deal, kind="call", subject="Call", due_at=due, assignee=rep)
    client.force_login(rep)
    html = deal_page(client, deal)
    assert "Mon 15 Mar, 10:30" in html
    assert "(New York)" in html


def test_planning_touches_the_deal_so_open_boards_refresh(client, rep, deal):
    before = updated_at(deal)
    client.force_login(rep)
    plan(client, deal)
    assert updated_at(deal) > before


def test_the_assignee_defaults_to_the_deal_owner(client, manager, rep, deal):
    client.force_login(manager)
    html = deal_page(client, deal)
    assert f'<option value="{rep.pk}" selected>{rep}</option>' in html


def test_a_manager_plans_an_activity_for_a_rep_of_the_team(client, manager, other_rep, deal):
    client.force_login(manager)
    assert plan(client, deal, assignee=other_rep.pk).status_code == 302
    activity = Activity.objects.get()
    assert (activity.assignee, activity.created_by) == (other_rep, manager)


def test_a_rep_cannot_give_an_activity_to_a_colleague(client, rep, other_rep, deal):
    client.force_login(rep)
    response = plan(client, deal, assignee=other_rep.pk)
    assert response.status_code == 422
    assert 'id="act-assignee-error"' in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [{"kind": "party"}, {"subject": ""}, {"subject": "   "}, {"due_date": "x"}, {"due_date": ""}],
)
def test_a_bad_activity_is_422_with_the_error_and_nothing_is_planned(client, rep, deal, fields):
    client.force_login(rep)
    before = updated_at(deal)
    response = plan(client, deal, **fields)
    assert response.status_code == 422
    assert 'class="field-error"' in response.content.decode()
    assert not Activity.objects.exists()
    assert updated_at(deal) == before


def test_an_outsider_cannot_plan_on_someone_elses_deal(client, outsider, deal):
    client.force_login(outsider)
    assert plan(client, deal, assignee=outsider.pk).status_code == 404
    assert not Activity.objects.exists()


def test_planning_needs_post(client, rep, deal):
    client.force_login(rep)
    assert client.get(reverse("activity_add", args=[deal.pk])).status_code == 405


@pytest.mark.parametrize(
    ("change", "field"),
    [({"subject": " "}, "subject"), ({"kind": "party"}, "kind"), ({"assignee": None}, "assignee")],
)
def test_the_service_refuses_a_bad_activity_whoever_calls_it(rep, deal, change, field):
    values = {"kind": "call", "subject": "Call", "assignee": rep, **change}
    with pytest.raises(Invalid) as refused:
        activity_create(actor=rep, deal=deal, due_at=timezone.now(), **values)
    assert field in refused.value.errors
    assert not Activity.objects.exists()


def test_the_service_refuses_an_assignee_the_actor_may_not_choose(rep, outsider, deal):
    with pytest.raises(Invalid):
        activity_create(
            actor=rep,
            deal=deal,
            kind="call",
            subject="Call",
            due_at=timezone.now(),
            assignee=outsider,
        )
    assert not Activity.objects.exists()


# ---- Marking done -----------------------------------------------------------------------------


@pytest.fixture
def activity(rep, deal):
    return activity_create(
        actor=rep,
        deal=deal,
        kind="task",
        subject="Send deck",
        due_at=timezone.now() + dt.timedelta(days=1),
        assignee=rep,
    )


def test_marking_an_activity_done_records_when_and_touches_the_deal(client, rep, deal, activity):
    before = updated_at(deal)
    client.force_login(rep)
    response = complete(client, activity)
    assert response.status_code == 302
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])
    activity.refresh_from_db()
    assert activity.done_at is not None
    assert updated_at(deal) > before


def test_marking_it_done_again_changes_nothing(client, rep, deal, activity):
    client.force_login(rep)
    complete(client, activity)
    activity.refresh_from_db()
    first_done, first_touch = activity.done_at, updated_at(deal)
    assert complete(client, activity).status_code == 302
    activity.refresh_from_db()
    assert activity.done_at == first_done
    assert updated_at(deal) == first_touch


def test_the_service_is_idempotent_too(rep, activity):
    first = activity_complete(actor=rep, activity_id=activity.pk).done_at
    assert activity_complete(actor=rep, activity_id=activity.pk).done_at == first


def test_marking_done_needs_post(client, rep, activity):
    client.force_login(rep)
    assert client.get(reverse("activity_complete", args=[activity.pk])).status_code == 405
    activity.refresh_from_db()
    assert activity.done_at is None


def test_an_outsider_cannot_complete_someone_elses_activity(client, outsider, activity):
    client.force_login(outsider)
    assert complete(client, activity).status_code == 404
    activity.refresh_from_db()
    assert activity.done_at is None


def test_the_manager_of_the_team_can_complete_it(client, manager, activity):
    client.force_login(manager)
    assert complete(client, activity).status_code == 302
    activity.refresh_from_db()
    assert activity.done_at is not None


def test_a_missing_activity_is_404(client, rep):
    client.force_login(rep)
    assert client.post(reverse("activity_complete", args=[999999])).status_code == 404


# ---- How they are shown -----------------------------------------------------------------------


def test_an_overdue_activity_says_so_in_words_not_only_in_red(client, rep, deal):
    ActivityFactory(deal=deal, subject="Late call", due_at=timezone.now() - dt.timedelta(days=2))
    ActivityFactory(deal=deal, subject="Future call", due_at=timezone.now() + dt.timedelta(days=2))
    client.force_login(rep)
    html = deal_page(client, deal)
    late = html[html.index("Late call") - 400 : html.index("Late call")]
    future = html[html.index("Future call") - 400 : html.index("Future call")]
    assert "is-overdue" in late and "is-overdue" not in future
    assert html.count("Overdue</strong>") == 1


def test_planned_activities_are_listed_by_due_date(client, rep, deal):
    now = timezone.now()
    ActivityFactory(deal=deal, subject="Second", due_at=now + dt.timedelta(days=5))
    ActivityFactory(deal=deal, subject="First", due_at=now + dt.timedelta(days=1))
    client.force_login(rep)
    html = deal_page(client, deal)
    next_steps = html[html.index("Next steps") : html.index("Plan an activity")]
    assert next_steps.index("First") < next_steps.index("Second")


def test_a_deal_without_a_next_step_says_so(client, rep, deal):
    client.force_login(rep)
    assert "No next step planned." in deal_page(client, deal)


def test_a_done_activity_moves_to_the_done_list_and_the_timeline(client, rep, deal, activity):
    activity_complete(actor=rep, activity_id=activity.pk)
    client.force_login(rep)
    html = deal_page(client, deal)
    assert "Mark “Send deck” as done" not in html and 'Done<span class="sr-only">' not in html
    assert "Done: task “Send deck”" in html
    assert "Planned: task “Send deck”" in html
    assert "No next step planned." in html
