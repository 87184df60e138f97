"""Reminders, stage-aging alerts, digests and their emails: on time, and exactly once."""

import datetime as dt
import threading
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings

from pipeline import tasks
from pipeline.forms import ActivityForm
from pipeline.models import Activity, Deal, Notification
from pipeline.services import (
    activity_create,
    activity_update,
    deal_create,
    deal_move,
    deals_hand_over,
)
from pipeline.services import notifications as reminders
from tests.factories import ActivityFactory, DealFactory, UserFactory

two_writers_at_once = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two writers at once; SQLite's shared in-memory test database refuses the "
    "second ('database table is locked') instead of making it wait",
)

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
NOON = dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC)


def remind(now):
    sent = reminders.reminders_send(now=now)
    reminders.notification_emails_send(now=now)
    return sent


@pytest.fixture
def deal(rep, by_name):
    return deal_create(actor=rep, title="Acme renewal", stage=by_name["Qualify"], value=Decimal(1))


def plan(rep, deal, due_at, **fields):
    values = {"kind": "call", "subject": "Pricing call", "assignee": rep, **fields}
    return activity_create(actor=rep, deal=deal, due_at=due_at, **values)


# ---- When a reminder is due ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reminder_waits_until_the_lead_time_before_the_due_time(rep, deal):
    plan(rep, deal, NOON)  # rep's lead: 15 minutes
    assert remind(NOON - dt.timedelta(minutes=15, seconds=1)) == 0
    assert not Notification.objects.exists()
    assert remind(NOON - dt.timedelta(minutes=15)) == 1
    notification = Notification.objects.get()
    assert (notification.user, notification.kind, notification.deal) == (rep, "reminder", deal)


@pytest.mark.django_db
def test_each_user_chooses_their_own_lead_time(rep, deal):
    rep.reminder_lead_minutes = 24 * 60
    rep.save()
    plan(rep, deal, NOON)
    assert remind(NOON - dt.timedelta(hours=24, minutes=1)) == 0
    assert remind(NOON - dt.timedelta(hours=24)) == 1


@pytest.mark.django_db
def test_the_reminder_time_follows_the_users_clock_across_the_daylight_saving_change(rep, deal):
    """New York springs forward on 14 March 2027: 09:00 that day is 13:00 UTC, not 14:00."""
    rep.time_zone = "America/New_York"
    rep.save()
    form = ActivityForm(
        {
            "kind": "call",
            "subject": "Kick-off",
            "due_date": "2027-03-14",
            "due_time": "09:00",
            "assignee": rep.pk,
        },
        user=rep,
    )
    assert form.is_valid(), form.errors
    activity = plan(rep, deal, form.due_at(), subject="Kick-off")
    assert activity.due_at == dt.datetime(2027, 3, 14, 13, 0, tzinfo=dt.UTC)
    assert remind(dt.datetime(2027, 3, 14, 12, 44, 59, tzinfo=dt.UTC)) == 0
    assert remind(dt.datetime(2027, 3, 14, 12, 45, tzinfo=dt.UTC)) == 1
    assert "Sun 14 Mar at 09:00" in Notification.objects.get().text


@pytest.mark.django_db
def test_the_day_before_the_change_nine_oclock_is_an_hour_later_in_utc(rep, deal):
    rep.time_zone = "America/New_York"
    rep.save()
    due = dt.datetime(2027, 3, 13, 9, 0, tzinfo=NEW_YORK)
    plan(rep, deal, due)
    assert due.astimezone(dt.UTC).hour == 14
    assert remind(dt.datetime(2027, 3, 13, 13, 44, tzinfo=dt.UTC)) == 0
    assert remind(dt.datetime(2027, 3, 13, 13, 45, tzinfo=dt.UTC)) == 1


@pytest.mark.django_db
def test_done_activities_are_not_reminded(rep, deal):
    activity = plan(rep, deal, NOON)
    Activity.objects.filter(pk=activity.pk).update(done_at=NOON - dt.timedelta(hours=1))
    assert remind(NOON) == 0


@pytest.mark.django_db
def test_deleted_activities_are_not_reminded(rep, deal):
    plan(rep, deal, NOON).delete()
    assert remind(NOON) == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_an_activity_long_overdue_is_not_reminded_after_an_outage(rep, deal):
    plan(rep, deal, NOON)
    assert remind(NOON + dt.timedelta(hours=25)) == 0
    assert remind(NOON + dt.timedelta(hours=23)) == 1


@pytest.mark.django_db
def test_a_deactivated_assignee_gets_no_reminder(rep, deal):
    plan(rep, deal, NOON)
    rep.is_active = False
    rep.save()
    assert remind(NOON) == 0


@pytest.mark.django_db
def test_a_reassigned_activity_reminds_the_new_assignee_with_their_lead(
    manager, rep, other_rep, deal
):
    other_rep.reminder_lead_minutes = 60
    other_rep.save()
    activity = plan(rep, deal, NOON)
    activity_update(actor=manager, activity_id=activity.pk, assignee=other_rep)
    assert remind(NOON - dt.timedelta(minutes=60)) == 1
    assert Notification.objects.get().user == other_rep


@pytest.mark.django_db
def test_work_handed_over_from_a_leaving_user_is_reminded_to_the_successor(
    admin, rep, other_rep, deal
):
    activity = plan(rep, deal, NOON)
    remind(NOON - dt.timedelta(minutes=15))
    deals_hand_over(actor=admin, from_user=rep, to_user=other_rep)
    activity.refresh_from_db()
    assert (activity.assignee, activity.reminded_at) == (other_rep, None)
    assert remind(NOON - dt.timedelta(minutes=10)) == 1
    assert Notification.objects.filter(user=other_rep, activity=activity).count() == 1


@pytest.mark.django_db
def test_an_activity_on_a_reassigned_deal_still_reminds_its_assignee(manager, rep, other_rep, deal):
    plan(rep, deal, NOON)
    Deal.objects.filter(pk=deal.pk).update(owner=other_rep)
    assert remind(NOON) == 1
    assert Notification.objects.get().user == rep


@pytest.mark.django_db
def test_rescheduling_a_reminded_activity_reminds_again_for_the_new_time(rep, deal):
    activity = plan(rep, deal, NOON)
    assert remind(NOON) == 1
    later = NOON + dt.timedelta(days=1)
    activity_update(actor=rep, activity_id=activity.pk, due_at=later)
    activity.refresh_from_db()
    assert activity.reminded_at is None
    assert remind(NOON + dt.timedelta(hours=1)) == 0
    assert remind(later) == 1
    assert Notification.objects.filter(activity=activity).count() == 2
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_editing_only_the_notes_does_not_remind_again(rep, deal):
    activity = plan(rep, deal, NOON)
    remind(NOON)
    activity_update(actor=rep, activity_id=activity.pk, notes="Bring the price list")
    activity.refresh_from_db()
    assert activity.reminded_at is not None
    assert remind(NOON + dt.timedelta(minutes=1)) == 0


# ---- Exactly once ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_running_the_task_twice_gives_one_notification_and_one_email(rep, deal):
    plan(rep, deal, NOON)
    assert remind(NOON) == 1
    assert remind(NOON) == 0
    assert remind(NOON + dt.timedelta(minutes=5)) == 0
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_celery_tasks_call_the_services(rep, deal, settings):
    plan(rep, deal, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    assert tasks.send_reminders() == 1
    assert tasks.send_reminders() == 0
    assert tasks.send_notification_emails() == 0
    assert len(mail.outbox) == 1


@two_writers_at_once
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_give_one_notification_each(rep, by_name):
    deal = deal_create(actor=rep, title="Race", stage=by_name["Qualify"])
    for index in range(20):
        plan(rep, deal, NOON + dt.timedelta(minutes=index % 3), subject=f"Call {index}")
    results: list[int] = []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(remind(NOON + dt.timedelta(minutes=5)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 20
    assert Notification.objects.count() == 20
    assert Notification.objects.filter(email_status="sent").count() == 20
    assert len(mail.outbox) == 20
    assert len({message.subject for message in mail.outbox}) == 20


@pytest.mark.django_db
def test_the_dedupe_key_refuses_a_second_notification_for_the_same_event(rep, deal):
    activity = plan(rep, deal, NOON)
    remind(NOON)
    Activity.objects.filter(pk=activity.pk).update(reminded_at=None)  # a lost claim
    assert remind(NOON) == 0
    assert Notification.objects.count() == 1


# ---- The email outbox --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_email_is_plain_text_and_html_with_links_to_the_site(rep, deal, settings):
    settings.SITE_URL = "https://crm.example.com"
    activity = plan(rep, deal, NOON, notes="Ask about the budget")
    remind(NOON)
    message = mail.outbox[0]
    assert message.to == [rep.email]
    assert message.subject == "Reminder: Pricing call"
    link = f"https://crm.example.com/deals/{deal.pk}/#activity-{activity.pk}"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html
    assert "Ask about the budget" in message.body
    assert "https://crm.example.com/accounts/profile/" in message.body
    assert 'href="https://crm.example.com/accounts/profile/"' in html


@pytest.mark.django_db
def test_a_user_who_switched_reminder_emails_off_still_gets_the_notification(rep, deal):
    rep.email_reminders = False
    rep.save()
    plan(rep, deal, NOON)
    assert remind(NOON) == 1
    assert Notification.objects.get().email_status == ""
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_user_without_an_email_address_gets_no_email(rep, deal):
    rep.email = ""
    rep.save()
    plan(rep, deal, NOON)
    remind(NOON)
    assert mail.outbox == []


@pytest.mark.django_db
def test_no_email_goes_to_someone_deactivated_before_it_was_sent(rep, deal):
    plan(rep, deal, NOON)
    reminders.reminders_send(now=NOON)
    rep.is_active = False
    rep.save()
    assert reminders.notification_emails_send(now=NOON) == 0
    assert Notification.objects.get().email_status == ""
    assert mail.outbox == []


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP is down")


@pytest.mark.django_db
def test_a_failed_email_is_retried_after_its_lease_and_sent_once(rep, deal):
    plan(rep, deal, NOON)
    with override_settings(EMAIL_BACKEND=f"{__name__}.FailingBackend"):
        remind(NOON)
    notification = Notification.objects.get()
    assert (notification.email_status, notification.email_attempts) == ("pending", 1)
    assert reminders.notification_emails_send(now=NOON + dt.timedelta(minutes=1)) == 0
    assert reminders.notification_emails_send(now=NOON + dt.timedelta(minutes=6)) == 1
    assert reminders.notification_emails_send(now=NOON + dt.timedelta(minutes=20)) == 0
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_email_claimed_by_a_worker_that_died_is_sent_after_the_lease(rep, deal):
    plan(rep, deal, NOON)
    reminders.reminders_send(now=NOON)
    notification = Notification.objects.get()
    # A worker claims the email and dies before sending it.
    Notification.objects.filter(pk=notification.pk).update(
        email_claimed_until=NOON + reminders.EMAIL_LEASE, email_attempts=1
    )
    assert reminders.notification_emails_send(now=NOON + dt.timedelta(minutes=1)) == 0
    assert reminders.notification_emails_send(now=NOON + dt.timedelta(minutes=5, seconds=1)) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_email_gives_up_after_too_many_attempts(rep, deal):
    plan(rep, deal, NOON)
    reminders.reminders_send(now=NOON)
    with override_settings(EMAIL_BACKEND=f"{__name__}.FailingBackend"):
        for minute in range(0, 60, 6):
            reminders.notification_emails_send(now=NOON + dt.timedelta(minutes=minute))
    notification = Notification.objects.get()
    assert notification.email_status == "failed"
    assert notification.email_attempts == reminders.EMAIL_MAX_ATTEMPTS


# ---- Stage-aging alerts ------------------------------------------------------------------------


def rotting_deal(owner, stage, days):
    return DealFactory(
        owner=owner, stage=stage, stage_entered_at=NOON - dt.timedelta(days=days, hours=1)
    )


@pytest.mark.django_db
def test_a_rotting_deal_alerts_its_owner_once_per_stay(rep, by_name):
    deal = rotting_deal(rep, by_name["Proposal"], 14)  # Proposal rots after 14 days
    fresh = rotting_deal(rep, by_name["Proposal"], 13)
    assert reminders.aging_alerts_send(now=NOON) == 1
    assert reminders.aging_alerts_send(now=NOON) == 0
    assert reminders.aging_alerts_send(now=NOON + dt.timedelta(days=3)) == 1  # now `fresh`
    alerts = Notification.objects.filter(kind="aging")
    assert sorted(alerts.values_list("deal_id", flat=True)) == sorted([deal.pk, fresh.pk])
    assert "Proposal for 14 days" in alerts.get(deal=deal).text


@pytest.mark.django_db
def test_a_deal_that_moves_and_rots_again_is_alerted_again(rep, by_name):
    now = dt.datetime.now(dt.UTC)
    deal = DealFactory(
        owner=rep, stage=by_name["Proposal"], stage_entered_at=now - dt.timedelta(days=15)
    )
    assert reminders.aging_alerts_send(now=now) == 1
    deal_move(actor=rep, deal_id=deal.pk, version=deal.version, stage_id=by_name["Closing"].pk)
    deal.refresh_from_db()
    entered = deal.stage_entered_at
    assert reminders.aging_alerts_send(now=entered + dt.timedelta(days=10)) == 0
    assert reminders.aging_alerts_send(now=entered + dt.timedelta(days=10, minutes=1)) == 1
    assert Notification.objects.filter(deal=deal, kind="aging").count() == 2


@pytest.mark.django_db
def test_won_lost_and_never_rotting_stages_raise_no_alert(rep, by_name):
    lost = rotting_deal(rep, by_name["Proposal"], 40)
    Deal.objects.filter(pk=lost.pk).update(status="lost", lost_reason="Price", closed_at=NOON)
    rotting_deal(rep, by_name["Follow-up"], 400)
    assert reminders.aging_alerts_send(now=NOON) == 0


@pytest.mark.django_db
def test_the_alert_goes_to_the_current_owner_of_a_reassigned_deal(rep, other_rep, by_name):
    deal = rotting_deal(rep, by_name["Proposal"], 20)
    Deal.objects.filter(pk=deal.pk).update(owner=other_rep)
    reminders.aging_alerts_send(now=NOON)
    assert Notification.objects.get().user == other_rep


@pytest.mark.django_db
def test_aging_emails_follow_the_owners_setting(rep, other_rep, by_name):
    other_rep.email_aging_alerts = False
    other_rep.save()
    rotting_deal(rep, by_name["Proposal"], 20)
    rotting_deal(other_rep, by_name["Proposal"], 20)
    reminders.aging_alerts_send(now=NOON)
    reminders.notification_emails_send(now=NOON)
    assert Notification.objects.count() == 2
    assert [message.to for message in mail.outbox] == [[rep.email]]
    assert mail.outbox[0].subject.startswith("Rotting deal: ")


@two_writers_at_once
@pytest.mark.django_db(transaction=True)
def test_two_alert_runs_at_once_alert_once(rep, by_name):
    for _ in range(10):
        rotting_deal(rep, by_name["Proposal"], 20)
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            reminders.aging_alerts_send(now=NOON)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Notification.objects.filter(kind="aging").count() == 10


# ---- Managers' digest --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_gets_one_digest_a_day_from_seven_in_their_time_zone(manager, rep, by_name):
    manager.time_zone = "Europe/Berlin"  # 07:00 in Berlin is 06:00 UTC in March
    manager.save()
    deal = rotting_deal(rep, by_name["Proposal"], 20)
    ActivityFactory(deal=deal, assignee=rep, due_at=NOON - dt.timedelta(days=2))
    morning = dt.datetime(2027, 3, 10, 5, 59, tzinfo=dt.UTC)
    assert reminders.digests_send(now=morning) == 0
    assert reminders.digests_send(now=morning + dt.timedelta(minutes=1)) == 1
    assert reminders.digests_send(now=morning + dt.timedelta(hours=5)) == 0
    assert reminders.digests_send(now=morning + dt.timedelta(days=1, minutes=1)) == 1
    digest = Notification.objects.filter(user=manager, kind="digest").first()
    assert "1 rotting deal, 1 overdue activity" in digest.text
    reminders.notification_emails_send(now=morning + dt.timedelta(days=1, minutes=2))
    assert len(mail.outbox) == 2
    assert "Rotting deals (1)" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_team_with_nothing_to_report_gets_no_digest(manager, rep):
    assert reminders.digests_send(now=NOON) == 0


@pytest.mark.django_db
def test_a_manager_can_switch_the_digest_email_off(manager, rep, by_name):
    manager.email_digest = False
    manager.save()
    rotting_deal(rep, by_name["Proposal"], 20)
    reminders.digests_send(now=NOON)
    reminders.notification_emails_send(now=NOON)
    assert Notification.objects.filter(kind="digest").count() == 1
    assert mail.outbox == []


@pytest.mark.django_db
def test_reps_get_no_digest(rep, by_name):
    rotting_deal(rep, by_name["Proposal"], 20)
    reminders.digests_send(now=NOON)
    assert not Notification.objects.filter(kind="digest").exists()


# ---- A won deal is followed up -----------------------------------------------------------------


@pytest.mark.django_db
def test_winning_a_deal_plans_a_follow_up_for_its_owner_a_week_later(rep, deal):
    rep.time_zone = "America/New_York"
    rep.save()
    deal_move(actor=rep, deal_id=deal.pk, version=deal.version, outcome="won")
    follow_up = Activity.objects.get(deal=deal)
    deal.refresh_from_db()
    local = follow_up.due_at.astimezone(NEW_YORK)
    won_day = deal.closed_at.astimezone(NEW_YORK).date()
    assert (local.date() - won_day).days == 7
    assert (local.hour, local.minute) == (9, 0)
    assert (follow_up.kind, follow_up.assignee, follow_up.done_at) == ("follow_up", rep, None)


@pytest.mark.django_db
def test_winning_again_after_a_reopen_does_not_plan_a_second_follow_up(rep, deal, by_name):
    deal_move(actor=rep, deal_id=deal.pk, version=1, outcome="won")
    deal_move(actor=rep, deal_id=deal.pk, version=2, stage_id=by_name["Closing"].pk)
    deal_move(actor=rep, deal_id=deal.pk, version=3, outcome="won")
    assert Activity.objects.filter(deal=deal, kind="follow_up").count() == 1


@pytest.mark.django_db
def test_the_follow_up_delay_is_a_setting_and_zero_switches_it_off(rep, deal, settings):
    settings.CRM_WON_FOLLOW_UP_DAYS = 0
    deal_move(actor=rep, deal_id=deal.pk, version=1, outcome="won")
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_losing_a_deal_plans_no_follow_up(rep, deal):
    deal_move(actor=rep, deal_id=deal.pk, version=1, outcome="lost", lost_reason="Price")
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_the_won_follow_up_is_reminded_like_any_activity(rep, deal):
    deal_move(actor=rep, deal_id=deal.pk, version=1, outcome="won")
    follow_up = Activity.objects.get()
    assert remind(follow_up.due_at - dt.timedelta(minutes=15)) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_unrelated_users_get_nothing(rep, deal):
    UserFactory()
    plan(rep, deal, NOON)
    remind(NOON)
    assert list(Notification.objects.values_list("user_id", flat=True)) == [rep.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("ahead", [1, 30])
def test_finding_due_reminders_takes_two_queries_and_skips_those_not_yet_due(
    rep, deal, ahead, django_assert_num_queries
):
    plan(rep, deal, NOON, subject="Due now")
    for index in range(ahead):
        plan(rep, deal, NOON + dt.timedelta(hours=index + 1), subject=f"Later {index}")
    with django_assert_num_queries(2):  # the lead times in use, then the due activities
        due = reminders.due_reminders(now=NOON)
    assert [activity.subject for activity in due] == ["Due now"]


@pytest.mark.django_db
def test_a_digest_written_before_its_manager_left_the_team_shows_no_one_elses_work(
    manager, rep, by_name
):
    """The email is rendered when it goes out: by then its manager may have no team, and it
    must not list the work of everyone else without a team."""
    loner = UserFactory(username="lone", team=None)
    rotting_deal(rep, by_name["Proposal"], 20)
    rotting_deal(loner, by_name["Proposal"], 20)
    assert reminders.digests_send(now=NOON) == 1
    manager.team = None
    manager.save()
    rotting, overdue = reminders.team_digest(manager=manager, now=NOON)
    assert rotting == [] and overdue == []
    reminders.notification_emails_send(now=NOON)
    assert "lone" not in mail.outbox[0].body and "Rotting deals (0)" in mail.outbox[0].body
