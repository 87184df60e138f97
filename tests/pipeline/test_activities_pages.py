"""My activities, editing/rescheduling and deleting an activity, and a contact's activities."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Activity, Notification
from tests.factories import ActivityFactory, ContactFactory, DealFactory, NotificationFactory
from tests.queries import count_statements

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def edit(client, activity, **fields):
    local = activity.due_at.astimezone(NEW_YORK)
    data = {
        "kind": activity.kind,
        "subject": activity.subject,
        "due_date": local.date().isoformat(),
        "due_time": local.strftime("%H:%M"),
        "assignee": activity.assignee_id,
        "notes": activity.notes,
        **fields,
    }
    return client.post(reverse("activity_edit", args=[activity.pk]), data)


@pytest.fixture
def activity(rep):
    rep.time_zone = "America/New_York"
    rep.save()
    return ActivityFactory(
        deal=DealFactory(owner=rep),
        subject="Pricing call",
        due_at=(timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0),
    )


# ---- My activities -----------------------------------------------------------------------------


def test_my_activities_are_grouped_into_overdue_today_and_upcoming(client, rep):
    deal = DealFactory(owner=rep)
    now = timezone.now()
    ActivityFactory(deal=deal, subject="Late one", due_at=now - dt.timedelta(hours=30))
    ActivityFactory(deal=deal, subject="Next week", due_at=now + dt.timedelta(days=7))
    ActivityFactory(deal=deal, subject="Finished", done_at=now, due_at=now)
    client.force_login(rep)
    html = client.get(reverse("my_activities")).content.decode()
    overdue = html[html.index("overdue-title") : html.index("today-title")]
    upcoming = html[html.index("upcoming-title") :]
    assert "Late one" in overdue and "Overdue</strong>" in overdue
    assert "Next week" in upcoming
    assert "Finished" not in html


def test_today_is_the_users_own_day(client, rep):
    """Late tonight in the user's zone is "today" even where it is already tomorrow in UTC."""
    for name in ("Pacific/Auckland", "America/Los_Angeles"):
        zone = zoneinfo.ZoneInfo(name)
        local_now = timezone.now().astimezone(zone)
        end_of_day = local_now.replace(hour=23, minute=59, second=0, microsecond=0)
        if end_of_day > local_now + dt.timedelta(minutes=5):
            break
    rep.time_zone = name
    rep.save()
    ActivityFactory(deal=DealFactory(owner=rep), subject="Tonight", due_at=end_of_day)
    client.force_login(rep)
    html = client.get(reverse("my_activities")).content.decode()
    assert "Tonight" in html[html.index("today-title") : html.index("upcoming-title")]


def test_only_my_own_activities_are_listed(client, rep, other_rep):
    ActivityFactory(deal=DealFactory(owner=other_rep), subject="Theirs")
    client.force_login(rep)
    html = client.get(reverse("my_activities")).content.decode()
    assert "Theirs" not in html
    assert "Nothing planned" in html


@pytest.mark.parametrize("size", [2, 25])
def test_my_activities_cost_the_same_queries_at_any_size(client, rep, size):
    for _ in range(size):
        ActivityFactory(deal=DealFactory(owner=rep))
    client.force_login(rep)
    client.get(reverse("my_activities"))
    with count_statements() as statements:
        client.get(reverse("my_activities"))
    assert len([sql for sql in statements if "pipeline_activity" in sql]) == 1
    assert len(statements) <= 4


def test_done_from_my_activities_returns_there(client, rep, activity):
    client.force_login(rep)
    response = client.post(
        reverse("activity_complete", args=[activity.pk]), {"next": reverse("my_activities")}
    )
    assert response["Location"] == reverse("my_activities")


def test_done_never_redirects_off_site(client, rep, activity):
    client.force_login(rep)
    response = client.post(
        reverse("activity_complete", args=[activity.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("deal_detail", args=[activity.deal_id])


# ---- Edit and reschedule -----------------------------------------------------------------------


def test_the_edit_form_shows_the_due_time_in_the_users_zone(client, rep, activity):
    client.force_login(rep)
    html = client.get(reverse("activity_edit", args=[activity.pk])).content.decode()
    local = activity.due_at.astimezone(NEW_YORK)
    assert f'value="{local:%H:%M}"' in html
    assert "(New York)" in html


def test_rescheduling_a_reminded_activity_lets_it_be_reminded_again(client, rep, activity):
    Activity.objects.filter(pk=activity.pk).update(reminded_at=timezone.now())
    client.force_login(rep)
    response = edit(client, activity, due_date="2027-05-04", due_time="16:15")
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.due_at == dt.datetime(2027, 5, 4, 16, 15, tzinfo=NEW_YORK)
    assert activity.reminded_at is None


def test_saving_unchanged_values_changes_nothing(client, rep, activity):
    reminded = timezone.now()
    Activity.objects.filter(pk=activity.pk).update(reminded_at=reminded)
    activity.refresh_from_db()
    client.force_login(rep)
    assert edit(client, activity).status_code == 302
    activity.refresh_from_db()
    assert activity.reminded_at == reminded


@pytest.mark.parametrize(
    "fields", [{"subject": " "}, {"kind": "party"}, {"due_date": "soon"}, {"due_time": "25:00"}]
)
def test_bad_edits_are_422_and_nothing_changes(client, rep, activity, fields):
    before = Activity.objects.values().get(pk=activity.pk)
    client.force_login(rep)
    response = edit(client, activity, **fields)
    assert response.status_code == 422
    assert 'class="field-error"' in response.content.decode()
    assert Activity.objects.values().get(pk=activity.pk) == before


def test_a_rep_cannot_hand_an_activity_to_a_colleague(client, rep, other_rep, activity):
    client.force_login(rep)
    assert edit(client, activity, assignee=other_rep.pk).status_code == 422
    activity.refresh_from_db()
    assert activity.assignee == rep


def test_a_manager_reassigns_and_the_new_assignee_will_be_reminded(
    client, manager, other_rep, activity
):
    Activity.objects.filter(pk=activity.pk).update(reminded_at=timezone.now())
    client.force_login(manager)
    assert edit(client, activity, assignee=other_rep.pk).status_code == 302
    activity.refresh_from_db()
    assert (activity.assignee, activity.reminded_at) == (other_rep, None)


def test_an_outsider_cannot_see_or_edit_it(client, outsider, activity):
    client.force_login(outsider)
    assert client.get(reverse("activity_edit", args=[activity.pk])).status_code == 404
    assert edit(client, activity, subject="Mine now").status_code == 404
    activity.refresh_from_db()
    assert activity.subject == "Pricing call"


def test_edit_accepts_only_get_and_post(client, rep, activity):
    client.force_login(rep)
    assert client.put(reverse("activity_edit", args=[activity.pk])).status_code == 405


# ---- Delete ------------------------------------------------------------------------------------


def test_deleting_removes_the_activity_and_its_notifications(client, rep, activity):
    NotificationFactory(user=rep, activity=activity)
    client.force_login(rep)
    response = client.post(reverse("activity_delete", args=[activity.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("deal_detail", args=[activity.deal_id])
    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert not Notification.objects.exists()
    # A repeat finds nothing.
    assert client.post(reverse("activity_delete", args=[activity.pk])).status_code == 404


def test_deleting_needs_post(client, rep, activity):
    client.force_login(rep)
    assert client.get(reverse("activity_delete", args=[activity.pk])).status_code == 405
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_an_outsider_cannot_delete_it(client, outsider, activity):
    client.force_login(outsider)
    assert client.post(reverse("activity_delete", args=[activity.pk])).status_code == 404
    assert Activity.objects.filter(pk=activity.pk).exists()


# ---- A contact's activities --------------------------------------------------------------------


def test_a_contact_page_section_lists_and_plans_activities(client, rep):
    contact = ContactFactory(first_name="Ada", last_name="Lovelace")
    client.force_login(rep)
    html = client.get(reverse("contact_activities", args=[contact.pk])).content.decode()
    assert "Activities with Ada Lovelace" in html
    assert "Nothing planned with Ada Lovelace" in html
    data = {
        "kind": "meeting",
        "subject": "Coffee",
        "due_date": "2027-01-10",
        "due_time": "10:00",
        "assignee": rep.pk,
    }
    response = client.post(
        reverse("contact_activity_add", args=[contact.pk]), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Coffee" in response.content.decode()
    activity = Activity.objects.get()
    assert (activity.contact, activity.deal, activity.assignee) == (contact, None, rep)


def test_a_bad_contact_activity_is_422_and_nothing_is_planned(client, rep):
    contact = ContactFactory()
    client.force_login(rep)
    response = client.post(
        reverse("contact_activity_add", args=[contact.pk]), {"kind": "call", "subject": ""}
    )
    assert response.status_code == 422
    assert not Activity.objects.exists()


def test_planning_on_a_contact_needs_post_and_a_real_contact(client, rep):
    client.force_login(rep)
    assert client.get(reverse("contact_activity_add", args=[1])).status_code == 405
    assert client.get(reverse("contact_activities", args=[999999])).status_code == 404


# ---- Plan from a board card --------------------------------------------------------------------


def plan_from_card(client, deal, **fields):
    data = {"kind": "call", "subject": "Chase the order", "due_date": "2027-02-01", **fields}
    data.setdefault("assignee", deal.owner_id)
    return client.post(reverse("activity_plan", args=[deal.pk]), data, HTTP_HX_REQUEST="true")


def test_a_card_offers_to_plan_a_next_step(client, rep, by_name):
    DealFactory(owner=rep, stage=by_name["Qualify"], pipeline=by_name["Qualify"].pipeline)
    client.force_login(rep)
    html = client.get(reverse("home")).content.decode()
    assert 'class="card-plan' in html and 'hx-target="#plan-body"' in html
    assert 'id="plan-dialog"' in html


def test_the_plan_dialog_form_defaults_to_tomorrow_and_the_owner(client, rep):
    deal = DealFactory(owner=rep)
    client.force_login(rep)
    html = client.get(reverse("activity_plan", args=[deal.pk])).content.decode()
    assert 'id="plan-title"' in html
    assert f'<option value="{rep.pk}" selected>' in html
    assert 'name="due_date" type="date" value="20' in html


def test_planning_from_a_card_answers_with_the_fresh_card(client, rep):
    deal = DealFactory(owner=rep)
    client.force_login(rep)
    response = plan_from_card(client, deal)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="deal-{deal.pk}"' in html and "Chase the order" in html
    assert "crm:announce" in response["HX-Trigger"]
    assert Activity.objects.get().deal == deal


def test_a_bad_plan_goes_back_into_the_dialog_and_nothing_is_planned(client, rep):
    deal = DealFactory(owner=rep)
    client.force_login(rep)
    response = plan_from_card(client, deal, subject="")
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#plan-body"
    assert 'class="field-error"' in response.content.decode()
    assert not Activity.objects.exists()


def test_an_outsider_cannot_plan_on_the_card(client, outsider, rep):
    deal = DealFactory(owner=rep)
    client.force_login(outsider)
    assert client.get(reverse("activity_plan", args=[deal.pk])).status_code == 404
    assert plan_from_card(client, deal, assignee=outsider.pk).status_code == 404
    assert not Activity.objects.exists()


def test_planning_from_a_card_takes_only_get_and_post(client, rep):
    deal = DealFactory(owner=rep)
    client.force_login(rep)
    assert client.delete(reverse("activity_plan", args=[deal.pk])).status_code == 405
