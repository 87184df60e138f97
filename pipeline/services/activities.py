"""Planned work: calls, meetings, emails, tasks and follow-ups on deals and contacts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.errors import Invalid
from accounts.models import User
from crm.models import Contact
from crm.validation import day_range_error
from pipeline.models import Activity, Deal
from pipeline.services.common import locked, may_assign, touch_deal


def activity_create(
    *,
    actor: User,
    kind: str,
    subject: str,
    due_at: dt.datetime,
    assignee: User,
    deal: Deal | None = None,
    contact: Contact | None = None,
    notes: str = "",
) -> Activity:
    """Plan an activity on a deal (or a contact) the caller has already checked the actor sees.

    The assignee must be someone the actor may assign work to; the deal is touched so open
    boards show the new next step.
    """
    if deal is None and contact is None:
        raise Invalid("An activity belongs to a deal or a contact.")
    errors = {}
    if kind not in Activity.Kind.values:
        errors["kind"] = "Choose a call, meeting, email, task or follow-up."
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = "Say what the activity is about."
    if not may_assign(actor=actor, person=assignee):
        errors["assignee"] = "You cannot give this activity to that person."
    if message := day_range_error(due_at):
        errors["due_at"] = message
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        activity = Activity.objects.create(
            kind=kind,
            subject=subject,
            due_at=due_at,
            assignee=assignee,
            deal=deal,
            contact=contact if contact is not None else getattr(deal, "contact", None),
            notes=notes,
            created_by=actor,
        )
        touch_deal(deal.pk if deal else None)
    return activity


def _locked_activity(*, actor: User, activity_id: int) -> Activity:
    """The activity's row, locked, if the actor may see it (else ``NotFound``)."""
    return locked(
        Activity.objects.visible_to(actor),
        activity_id,
        "This activity does not exist or is not yours.",
    )


def activity_complete(*, actor: User, activity_id: int) -> Activity:
    """Mark an activity done. Completing it again changes nothing (not even the deal)."""
    with transaction.atomic():
        activity = _locked_activity(actor=actor, activity_id=activity_id)
        if activity.done_at is None:
            activity.done_at = timezone.now()
            activity.save(update_fields=["done_at"])
            touch_deal(activity.deal_id)
    return activity


ACTIVITY_EDITABLE_FIELDS = ("kind", "subject", "due_at", "assignee", "notes")


def activity_update(*, actor: User, activity_id: int, **changes: Any) -> Activity:
    """Edit or reschedule an activity. A new due time or assignee clears ``reminded_at``,
    so the reminder comes again for the new time (or to the new person)."""
    unknown = set(changes) - set(ACTIVITY_EDITABLE_FIELDS)
    if unknown:
        raise Invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    errors = {}
    if "kind" in changes and changes["kind"] not in Activity.Kind.values:
        errors["kind"] = "Choose a call, meeting, email, task or follow-up."
    if "subject" in changes:
        changes["subject"] = (changes["subject"] or "").strip()
        if not changes["subject"]:
            errors["subject"] = "Say what the activity is about."
    if message := day_range_error(changes.get("due_at")):
        errors["due_at"] = message
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        activity = _locked_activity(actor=actor, activity_id=activity_id)
        if "assignee" in changes and not may_assign(
            actor=actor, person=changes["assignee"], keep=activity.assignee_id
        ):
            raise Invalid({"assignee": "You cannot give this activity to that person."})
        changed = [name for name, value in changes.items() if getattr(activity, name) != value]
        if not changed:
            return activity
        for name in changed:
            setattr(activity, name, changes[name])
        if {"due_at", "assignee"} & set(changed):
            activity.reminded_at = None
            changed.append("reminded_at")
        activity.save(update_fields=changed)
        touch_deal(activity.deal_id)
    return activity


def activity_delete(*, actor: User, activity_id: int) -> Activity:
    """Delete an activity (and its notifications); a second delete finds nothing (404)."""
    with transaction.atomic():
        activity = _locked_activity(actor=actor, activity_id=activity_id)
        deal_id = activity.deal_id
        activity.delete()
        touch_deal(deal_id)
    return activity


def activity_plan_won_follow_up(*, deal: Deal, now: dt.datetime) -> None:
    """A won deal gets a follow-up for its owner (CRM_WON_FOLLOW_UP_DAYS later, 09:00 in the
    owner's time zone): deliver on what was promised. One planned follow-up is enough."""
    days = settings.CRM_WON_FOLLOW_UP_DAYS
    if days <= 0 or deal.activities.filter(kind=Activity.Kind.FOLLOW_UP, done_at=None).exists():
        return
    owner = deal.owner
    zone = owner.zone
    day = now.astimezone(zone).date() + dt.timedelta(days=days)
    Activity.objects.create(
        kind=Activity.Kind.FOLLOW_UP,
        subject="Follow up on the win: check everything promised was delivered",
        due_at=dt.datetime.combine(day, dt.time(9, 0), tzinfo=zone),
        assignee=owner,
        deal=deal,
        contact_id=deal.contact_id,
        created_at=now,
    )
