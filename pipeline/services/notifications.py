"""Follow-up reminders, stage-aging alerts and managers' digests: who is told what, once.

These are the services behind the Celery tasks in ``pipeline/tasks.py``. Each is safe to run
again, or twice at the same time, because every notification is claimed in the database:

* a reminder flips ``Activity.reminded_at`` from empty with a compare-and-set ``update()``
  and writes its notification in the same transaction;
* every notification carries a ``key`` naming its event, unique per user, so a second
  writer for the same event fails on the constraint instead of notifying twice;
* the email goes out in a separate step (``notification_emails_send``) that claims each
  pending email with a lease, so a worker killed mid-send leaves it to be retried.

See docs/reminders.md for the whole picture.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.scope import Scope
from pipeline.models import Activity, Deal, Notification, Stage
from pipeline.selectors import rotting_q

logger = logging.getLogger(__name__)

EMAIL_LEASE = dt.timedelta(minutes=5)
EMAIL_MAX_ATTEMPTS = 5
BATCH = 500


def activity_link(activity: Activity) -> str:
    if activity.deal_id:
        return reverse("deal_detail", args=[activity.deal_id]) + f"#activity-{activity.pk}"
    return reverse("my_activities") + f"#activity-{activity.pk}"


def _notify(
    *,
    user: User,
    kind: str,
    key: str,
    text: str,
    link: str,
    now: dt.datetime,
    email: bool,
    deal: Deal | None = None,
    activity: Activity | None = None,
) -> Notification | None:
    """Write one notification for ``key``, or nothing if this user already has it."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                user=user,
                kind=kind,
                key=key,
                text=text[:300],
                link=link,
                deal=deal,
                activity=activity,
                created_at=now,
                email_status=(
                    Notification.Email.PENDING if email and user.email else Notification.Email.NONE
                ),
            )
    except IntegrityError:
        return None  # someone else wrote this very notification a moment ago


# ---- Reminders ---------------------------------------------------------------------------------


def reminder_time(activity: Activity) -> dt.datetime:
    return activity.due_at - dt.timedelta(minutes=activity.assignee.reminder_lead_minutes)


def due_reminders(*, now: dt.datetime) -> list[Activity]:
    """Planned activities not yet reminded whose reminder time has come.

    An activity whose due time passed longer ago than the catch-up window is not reminded
    any more (it shows as overdue instead): after a long outage nobody wants a pile of
    reminders for last week's calls.
    """
    catch_up = dt.timedelta(hours=settings.CRM_REMINDER_CATCH_UP_HOURS)
    # One condition per lead time in use (a handful), so the database returns only what is
    # due now, read from the partial reminder index, however many activities lie ahead.
    leads = User.objects.filter(is_active=True).values_list("reminder_lead_minutes", flat=True)
    due = Q(pk__in=[])
    for lead in set(leads):
        due |= Q(
            assignee__reminder_lead_minutes=lead,
            due_at__lte=now + dt.timedelta(minutes=lead),
        )
    candidates = (
        Activity.objects.filter(
            due,
            done_at__isnull=True,
            reminded_at__isnull=True,
            due_at__gte=now - catch_up,
            assignee__is_active=True,
        )
        .select_related("assignee")
        .order_by("due_at", "id")
    )
    return [activity for activity in candidates[:BATCH] if reminder_time(activity) <= now]


def _reminder_text(activity: Activity) -> str:
    local = timezone.localtime(activity.due_at, activity.assignee.zone)
    about = f" ({activity.deal.title})" if activity.deal else ""
    return (
        f"{activity.get_kind_display()} “{activity.subject}”{about} is due "
        f"{local:%a} {local.day} {local:%b} at {local:%H:%M}."
    )


def reminder_send(*, activity_id: int, now: dt.datetime) -> Notification | None:
    """Claim one activity's reminder and write its notification, in one transaction.

    The claim compares the due time and assignee that were read, so an activity rescheduled
    or reassigned in the meantime is left for the next run, with its new values.
    """
    activity = (
        Activity.objects.select_related("assignee", "deal")
        .filter(pk=activity_id, done_at__isnull=True, reminded_at__isnull=True)
        .first()
    )
    if activity is None or reminder_time(activity) > now:
        return None
    with transaction.atomic():
        claimed = Activity.objects.filter(
            pk=activity.pk,
            done_at__isnull=True,
            reminded_at__isnull=True,
            due_at=activity.due_at,
            assignee_id=activity.assignee_id,
        ).update(reminded_at=now)
        if not claimed:
            return None
        return _notify(
            user=activity.assignee,
            kind="reminder",
            key=f"reminder:{activity.pk}:{activity.due_at.isoformat()}",
            text=_reminder_text(activity),
            link=activity_link(activity),
            now=now,
            email=activity.assignee.email_reminders,
            deal=activity.deal,
            activity=activity,
        )


def reminders_send(*, now: dt.datetime | None = None) -> int:
    """Send every reminder whose time has come; returns how many were sent by this call."""
    now = now or timezone.now()
    sent = 0
    for activity in due_reminders(now=now):
        if reminder_send(activity_id=activity.pk, now=now) is not None:
            sent += 1
    return sent


# ---- Stage-aging alerts ------------------------------------------------------------------------


def _rotting_stages() -> list[Stage]:
    return list(Stage.objects.active().filter(rotting_days__isnull=False, is_won=False))


def rotting_deals_unalerted(*, now: dt.datetime) -> QuerySet[Deal]:
    """Open deals past their stage's rotting days that got no alert during this stay."""
    alerted = Notification.objects.filter(
        deal_id=OuterRef("pk"), kind="aging", created_at__gte=OuterRef("stage_entered_at")
    )
    return (
        Deal.objects.open()
        .filter(rotting_q(_rotting_stages(), now))
        .filter(~Exists(alerted))
        .select_related("owner", "stage")
        .order_by("stage_entered_at", "id")
    )


def aging_alerts_send(*, now: dt.datetime | None = None) -> int:
    """Alert each rotting deal's owner once per stay in the stage."""
    now = now or timezone.now()
    sent = 0
    for deal in rotting_deals_unalerted(now=now)[:BATCH]:
        days = (now - deal.stage_entered_at).days
        notification = _notify(
            user=deal.owner,
            kind="aging",
            key=f"aging:{deal.pk}:{deal.stage_entered_at.isoformat()}",
            text=f"“{deal.title}” has sat in {deal.stage.name} for {days} days "
            f"(the stage expects {deal.stage.rotting_days}). Plan its next step.",
            link=reverse("deal_detail", args=[deal.pk]),
            now=now,
            email=deal.owner.email_aging_alerts,
            deal=deal,
        )
        sent += notification is not None
    return sent


# ---- Managers' daily digest --------------------------------------------------------------------


def _team_queries(*, manager: User, now: dt.datetime) -> tuple[QuerySet[Deal], QuerySet[Activity]]:
    """What a manager's digest counts: the rotting deals and overdue activities of the people
    whose work they see (``Scope``). A manager who has since left their team sees only their
    own work there, never that of everyone else without a team."""
    people = Scope.of(manager)
    rotting = Deal.objects.open().filter(people.people("owner"), rotting_q(_rotting_stages(), now))
    overdue = Activity.objects.filter(
        people.people("assignee"), done_at__isnull=True, due_at__lt=now
    )
    return rotting, overdue


def team_digest(*, manager: User, now: dt.datetime) -> tuple[list[Deal], list[Activity]]:
    """The rotting deals and overdue activities of a manager's team (the first 50 of each)."""
    rotting, overdue = _team_queries(manager=manager, now=now)
    return (
        list(rotting.select_related("owner", "stage").order_by("stage_entered_at", "id")[:50]),
        list(overdue.select_related("assignee", "deal").order_by("due_at", "id")[:50]),
    )


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Once a day, from CRM_DIGEST_HOUR in each manager's own time zone, one digest each.

    A manager whose team has nothing rotting and nothing overdue gets no digest that day.
    """
    now = now or timezone.now()
    sent = 0
    managers = User.objects.filter(is_active=True, role=User.Role.MANAGER, team__isnull=False)
    for manager in managers:
        local = now.astimezone(manager.zone)
        if local.hour < settings.CRM_DIGEST_HOUR:
            continue
        key = f"digest:{manager.pk}:{local.date().isoformat()}"
        if Notification.objects.filter(user=manager, key=key).exists():
            continue
        rotting_query, overdue_query = _team_queries(manager=manager, now=now)
        rotting, overdue = rotting_query.count(), overdue_query.count()
        if not rotting and not overdue:
            continue
        notification = _notify(
            user=manager,
            kind="digest",
            key=key,
            text=f"Team digest for {local:%a} {local.day} {local:%b}: {rotting} rotting "
            f"deal{'s' if rotting != 1 else ''}, {overdue} overdue "
            f"activit{'ies' if overdue != 1 else 'y'}.",
            link=reverse("home") + "?owner=team&rotting=1",
            now=now,
            email=manager.email_digest,
        )
        sent += notification is not None
    return sent


# ---- Email outbox ------------------------------------------------------------------------------


def _email_message(notification: Notification, now: dt.datetime) -> EmailMultiAlternatives:
    user = notification.user
    zone = user.zone
    context = {
        "notification": notification,
        "user": user,
        "url": settings.SITE_URL + notification.link,
        "site_url": settings.SITE_URL,
        "activity": notification.activity,
        "deal": notification.deal,
    }
    if notification.kind == "digest":
        context["rotting"], context["overdue"] = team_digest(manager=user, now=now)
    subjects = {
        "reminder": "Reminder: {}",
        "aging": "Rotting deal: {}",
        "digest": "{}",
    }
    subject_about = (
        notification.activity.subject
        if notification.kind == "reminder" and notification.activity
        else notification.deal.title
        if notification.deal
        else notification.text
    )
    subject = subjects.get(notification.kind, "{}").format(subject_about)[:150]
    with timezone.override(zone):
        text = render_to_string("pipeline/email/notification.txt", context)
        html = render_to_string("pipeline/email/notification.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
    )
    message.attach_alternative(html, "text/html")
    return message


def notification_email_send(*, notification_id: int, now: dt.datetime | None = None) -> bool:
    """Claim one pending email with a lease, send it, mark it sent. True if this call sent it.

    The claim commits before the email leaves, so a second worker skips it; a worker that
    dies before marking it sent leaves the lease to expire and the email to be retried.
    """
    now = now or timezone.now()
    free = Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now)
    claimed = (
        Notification.objects.filter(free, pk=notification_id, email_status="pending")
        .filter(email_attempts__lt=EMAIL_MAX_ATTEMPTS)
        .update(email_claimed_until=now + EMAIL_LEASE, email_attempts=F("email_attempts") + 1)
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "deal", "activity").get(
        pk=notification_id
    )
    if not notification.user.is_active or not notification.user.email:
        # Deactivated, or the address was removed since: the in-app notification is enough.
        Notification.objects.filter(pk=notification_id).update(
            email_status=Notification.Email.NONE, email_claimed_until=None
        )
        return False
    try:
        _email_message(notification, now).send()
    except Exception:
        logger.exception("Email for notification %s failed", notification_id)
        if notification.email_attempts >= EMAIL_MAX_ATTEMPTS:
            Notification.objects.filter(pk=notification_id).update(email_status="failed")
        return False
    Notification.objects.filter(pk=notification_id).update(
        email_status="sent", email_sent_at=timezone.now(), email_claimed_until=None
    )
    return True


def notification_emails_send(*, now: dt.datetime | None = None) -> int:
    """Send every pending email that nobody holds a lease on; returns how many were sent."""
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(email_status="pending", email_attempts__lt=EMAIL_MAX_ATTEMPTS)
        .filter(Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now))
        .order_by("id")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(notification_email_send(notification_id=pk, now=now) for pk in list(pending))


# ---- Reading notifications ---------------------------------------------------------------------


def notification_read(*, user: User, notification_id: int) -> bool:
    """Mark one of the user's notifications read. False if it is not theirs (or is gone)."""
    mine = Notification.objects.filter(pk=notification_id, user=user)
    if not mine.exists():
        return False
    mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    return True


def notifications_read_all(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
