"""Dates people type are bounded (1900 to 2200) in the forms and in the services, and rows
already far outside that range still show, to everyone, in every time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.db import connection
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from crm.validation import EARLIEST_DAY, LATEST_DAY
from pipeline import services
from pipeline.card_html import render_card
from pipeline.forms import ActivityForm, DealEditForm, DealQuickAddForm
from pipeline.models import Activity, Deal, Notification
from pipeline.selectors import board_card
from pipeline.services import notifications as reminders
from tests.factories import ActivityFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

ZONES = ["Etc/GMT+12", "Pacific/Kiritimati", "UTC"]
# The far ends of what Python (and so Django) can hold, as they come from the database.
FIRST_MOMENT = dt.datetime.min.replace(tzinfo=dt.UTC)
LAST_MOMENT = dt.datetime.max.replace(tzinfo=dt.UTC)


def test_the_range_is_1900_to_2200():
    assert (dt.date(1900, 1, 1), dt.date(2200, 12, 31)) == (EARLIEST_DAY, LATEST_DAY)


@pytest.mark.parametrize(
    ("day", "valid"),
    [
        ("1899-12-31", False),
        ("1900-01-01", True),
        ("2200-12-31", True),
        ("2201-01-01", False),
        ("0001-01-01", False),
        ("9999-12-31", False),
    ],
)
def test_the_forms_bound_every_date_a_person_types(rep, by_name, day, valid):
    activity = ActivityForm(
        {"kind": "call", "subject": "Call", "due_date": day, "assignee": rep.pk}, user=rep
    )
    assert activity.is_valid() is valid, activity.errors
    quick = DealQuickAddForm({"title": "Acme", "value": "1", "currency": "EUR", **close(day)})
    assert quick.is_valid() is valid, quick.errors
    deal = DealFactory(owner=rep, stage=by_name["Qualify"])
    edit = DealEditForm(
        {"title": "Acme", "value": "1", "currency": "EUR", "owner": rep.pk, "version": 1}
        | close(day),
        deal=deal,
        user=rep,
    )
    assert edit.is_valid() is valid, edit.errors
    if not valid:
        assert "between 1 Jan 1900 and 31 Dec 2200" in str(activity.errors["due_date"])
        assert "between 1 Jan 1900 and 31 Dec 2200" in str(quick.errors["expected_close_date"])


def close(day: str) -> dict:
    return {"expected_close_date": day}


def test_the_date_pickers_say_the_range(rep):
    html = str(ActivityForm(user=rep)["due_date"])
    assert 'min="1900-01-01"' in html and 'max="2200-12-31"' in html


@pytest.mark.parametrize("day", ["0001-01-02", "1899-12-31", "2201-01-01", "9999-12-30"])
def test_a_custom_report_period_outside_the_range_is_a_400(client, manager, day):
    client.force_login(manager)
    end = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    for url in (reverse("reports"), reverse("reports_csv", args=["stages"])):
        response = client.get(url, {"period": "custom", "start": day, "end": end})
        assert response.status_code == 400, url


@pytest.mark.parametrize("moment", [FIRST_MOMENT, LAST_MOMENT])
def test_the_services_refuse_activities_due_outside_the_range(rep, by_name, moment):
    deal = services.deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    with pytest.raises(services.Invalid) as refused:
        services.activity_create(
            actor=rep, kind="call", subject="Call", due_at=moment, assignee=rep, deal=deal
        )
    assert "due_at" in refused.value.errors
    activity = services.activity_create(
        actor=rep, kind="call", subject="Call", due_at=timezone.now(), assignee=rep, deal=deal
    )
    with pytest.raises(services.Invalid):
        services.activity_update(actor=rep, activity_id=activity.pk, due_at=moment)
    activity.refresh_from_db()
    assert EARLIEST_DAY <= activity.due_at.date() <= LATEST_DAY


def test_a_moment_is_judged_by_the_day_it_was_entered_on(rep, by_name):
    deal = services.deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    # 1 Jan 1900 09:00 at UTC+14 is still 31 Dec 1899 in UTC: the form accepted that day.
    due = dt.datetime(1900, 1, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    services.activity_create(
        actor=rep, kind="call", subject="Call", due_at=due, assignee=rep, deal=deal
    )


@pytest.mark.parametrize("day", [dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.date(9999, 12, 31)])
def test_the_services_refuse_expected_close_dates_outside_the_range(rep, by_name, day):
    with pytest.raises(services.Invalid) as refused:
        services.deal_create(
            actor=rep, title="Acme", stage=by_name["Qualify"], expected_close_date=day
        )
    assert "expected_close_date" in refused.value.errors
    assert not Deal.objects.exists()
    deal = services.deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    with pytest.raises(services.Invalid) as refused:
        services.deal_update(
            actor=rep, deal_id=deal.pk, version=deal.version, expected_close_date=day
        )
    assert "expected_close_date" in refused.value.errors
    deal.refresh_from_db()
    assert deal.expected_close_date is None


# ---- Rows already outside the range ----------------------------------------------------------


@pytest.fixture(params=["first", "last"])
def odd_rows(request, rep, by_name):
    """A rep's deal closing on 1 Jan of year 1 (or 31 Dec 9999) with an activity due at the
    first (or last) moment Python holds, written straight to the database."""
    first = request.param == "first"
    contact = ContactFactory(owner=rep)
    deal = DealFactory(
        owner=rep,
        stage=by_name["Qualify"],
        contact=contact,
        expected_close_date=dt.date.min if first else dt.date.max,
    )
    won = DealFactory(
        owner=rep,
        stage=by_name["Follow-up"],
        status=Deal.Status.WON,
        closed_at=FIRST_MOMENT if first else LAST_MOMENT,
        expected_close_date=dt.date.min if first else dt.date.max,
    )
    moment = FIRST_MOMENT if first else LAST_MOMENT
    activity = ActivityFactory(deal=deal, contact=contact, assignee=rep, due_at=moment)
    done = ActivityFactory(
        deal=deal, contact=contact, assignee=rep, due_at=moment, done_at=timezone.now()
    )
    Notification.objects.create(
        user=rep, kind="reminder", text="Odd", activity=activity, deal=deal, link="/"
    )
    return {"deal": deal, "won": won, "contact": contact, "activity": activity, "done": done}


def pages(rows) -> list[str]:
    deal, contact = rows["deal"], rows["contact"]
    pipeline_id = deal.pipeline_id
    return [
        reverse("home"),
        reverse("board", args=[pipeline_id]),
        reverse("board_changes", args=[pipeline_id]),
        reverse("home") + "?close=overdue",
        reverse("deal_detail", args=[deal.pk]),
        reverse("deal_detail", args=[rows["won"].pk]),
        reverse("deals_won", args=[pipeline_id]),
        reverse("activity_plan", args=[deal.pk]),
        reverse("my_activities"),
        reverse("activity_edit", args=[rows["activity"].pk]),
        reverse("contact_detail", args=[contact.pk]),
        reverse("contact_activities", args=[contact.pk]),
        reverse("notifications"),
        reverse("reports"),
        reverse("reports") + "?period=year",
        *[reverse("reports_csv", args=[table]) for table in ("forecast", "stages", "reps")],
    ]


@pytest.mark.parametrize("zone", ZONES)
def test_odd_rows_never_break_a_page_for_anyone_in_any_time_zone(
    client, rep, manager, admin, odd_rows, zone
):
    problems = []
    for person in (rep, manager, admin):
        person.time_zone = zone
        person.save(update_fields=["time_zone"])
        client.force_login(person)
        for url in pages(odd_rows):
            status = client.get(url).status_code
            if status != 200:
                problems.append((person.username, url, status))
    assert problems == []


@pytest.mark.parametrize("zone", ZONES)
def test_the_board_shows_odd_rows_whatever_the_server_time_zone(
    client, settings, admin, odd_rows, zone
):
    settings.TIME_ZONE = zone
    client.force_login(admin)
    assert client.get(reverse("home")).status_code == 200
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        card = render_card(board_card(user=admin, deal_id=odd_rows["deal"].pk))
        won = render_card(board_card(user=admin, deal_id=odd_rows["won"].pk))
    assert "Next:" in card and "Won" in won


@pytest.mark.parametrize("zone", ZONES)
def test_the_rep_can_repair_complete_and_delete_an_odd_activity(client, rep, odd_rows, zone):
    rep.time_zone = zone
    rep.save(update_fields=["time_zone"])
    client.force_login(rep)
    activity, done = odd_rows["activity"], odd_rows["done"]
    edit = reverse("activity_edit", args=[activity.pk])
    assert client.get(edit).status_code == 200
    data = {"kind": "call", "subject": "Fixed", "due_date": "2030-05-06", "due_time": "10:00"}
    response = client.post(edit, data | {"assignee": rep.pk})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.subject == "Fixed"
    assert activity.due_at == dt.datetime(2030, 5, 6, 10, 0, tzinfo=zoneinfo.ZoneInfo(zone))
    assert client.post(reverse("activity_complete", args=[done.pk])).status_code == 302
    odd = ActivityFactory(deal=odd_rows["deal"], assignee=rep, due_at=done.due_at)
    assert client.post(reverse("activity_complete", args=[odd.pk])).status_code == 302
    assert Activity.objects.get(pk=odd.pk).done_at is not None
    assert client.post(reverse("activity_delete", args=[odd.pk])).status_code == 302
    assert not Activity.objects.filter(pk=odd.pk).exists()


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Pacific/Kiritimati"])
def test_a_digest_listing_an_odd_activity_still_goes_out(rep, manager, odd_rows, zone):
    manager.time_zone = zone
    manager.save(update_fields=["time_zone"])
    now = timezone.now()
    notification = Notification.objects.create(
        user=manager, kind="digest", text="Digest", link="/", email_status="pending"
    )
    assert reminders.notification_email_send(notification_id=notification.pk, now=now)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Pacific/Kiritimati"])
@pytest.mark.parametrize("moment", [FIRST_MOMENT, LAST_MOMENT])
def test_the_date_filters_show_an_odd_moment_in_utc_rather_than_fail(zone, moment):
    template = Template(
        "{% load dates board %}{{ m|local_date:'c' }}|{{ m|local_time:'H:i' }}|{{ m|relative_day }}"
    )
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        text = template.render(Context({"m": moment}))
    try:
        shown = moment.astimezone(zoneinfo.ZoneInfo(zone))
    except OverflowError:
        shown = moment  # no local time there: shown in UTC
    assert text == f"{shown.isoformat()}|{shown:%H:%M}|{shown.day} {shown:%b %Y}"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="only PostgreSQL stores a moment Python cannot read back (after year 9999 in UTC); "
    "SQLite's adapter refuses to write one",
)
def test_moments_python_cannot_hold_are_read_as_the_nearest_it_can(client, rep, manager, by_name):
    deal = DealFactory(owner=rep, stage=by_name["Qualify"])
    # 31 Dec 9999 23:00 at UTC-12 is 1 Jan 10000 in UTC; 1 Jan of year 1 at UTC+9 is 1 BC.
    late = dt.datetime(9999, 12, 31, 23, 0, tzinfo=zoneinfo.ZoneInfo("Etc/GMT+12"))
    early = dt.datetime(1, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))
    beyond = ActivityFactory(deal=deal, assignee=rep, due_at=late)
    before = ActivityFactory(deal=deal, assignee=rep, due_at=early)
    assert Activity.objects.get(pk=beyond.pk).due_at == LAST_MOMENT
    assert Activity.objects.get(pk=before.pk).due_at == FIRST_MOMENT
    for person in (manager, rep):
        client.force_login(person)
        for url in (reverse("home"), reverse("deal_detail", args=[deal.pk])):
            assert client.get(url).status_code == 200, (person.username, url)
    assert client.get(reverse("my_activities")).status_code == 200
    assert client.post(reverse("activity_complete", args=[beyond.pk])).status_code == 302
    assert client.post(reverse("activity_delete", args=[before.pk])).status_code == 302
