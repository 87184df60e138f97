"""Deals' own fields: creating a deal, editing it, giving it to someone else.

A deal's stage, status and position change only through ``pipeline.services.moves``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.errors import Invalid
from accounts.models import User
from crm.models import Contact, Organization
from crm.validation import day_range_error
from pipeline.models import Activity, Deal, Stage, StageChange
from pipeline.services.columns import lock_stages, place_card
from pipeline.services.common import locked_deal, may_assign
from pipeline.services.errors import StaleDeal


def deal_create(
    *,
    actor: User,
    title: str,
    stage: Stage,
    owner: User | None = None,
    value: Decimal = Decimal("0"),
    currency: str | None = None,
    organization: Organization | None = None,
    organization_name: str = "",
    contact: Contact | None = None,
    contact_name: str = "",
    expected_close_date: dt.date | None = None,
) -> Deal:
    """Create an open deal at the top of ``stage``'s column, with its first history row.

    A typed ``organization_name`` or ``contact_name`` with no chosen record creates that
    entry in the shared address book, in the same transaction. The values follow the same
    rules as ``deal_update`` (``Invalid`` with a message per field).
    """
    values: dict[str, Any] = {
        "title": title,
        "value": value,
        "expected_close_date": expected_close_date,
    }
    if currency:
        values["currency"] = currency
    errors = deal_field_errors(values)
    if owner is not None and not may_assign(actor=actor, person=owner):
        errors["owner"] = "You cannot give this deal to that person."
    if errors:
        raise Invalid(errors)
    title = values["title"]
    with transaction.atomic():
        # The column's lock first: its top is read below, and the stage may have been
        # removed by an admin since the caller loaded it.
        locked = lock_stages([stage.pk]).get(stage.pk)
        if locked is None or locked.is_archived or locked.is_won:
            raise Invalid("New deals start in an open stage of the pipeline.")
        if organization is None and organization_name:
            organization = Organization.objects.create(name=organization_name, owner=actor)
        if contact is None and contact_name:
            first, _, last = contact_name.partition(" ")
            contact = Contact.objects.create(
                first_name=first, last_name=last, organization=organization, owner=actor
            )
        if organization is None and contact is not None:
            organization = contact.organization
        now = timezone.now()
        deal = Deal(
            title=title,
            stage=stage,
            pipeline_id=stage.pipeline_id,
            owner=owner or actor,
            value=value,
            contact=contact,
            organization=organization,
            expected_close_date=expected_close_date,
            stage_entered_at=now,
            created_at=now,
        )
        deal.position = place_card(stage=locked, deal=deal, above_id=None, below_id=None)
        if currency:
            deal.currency = currency
        deal.save()
        StageChange.objects.create(
            deal=deal,
            kind=StageChange.Kind.CREATED,
            to_stage=stage,
            to_status=Deal.Status.OPEN,
            changed_by=actor,
            changed_at=now,
        )
    return deal


DEAL_EDITABLE_FIELDS = (
    "title",
    "value",
    "currency",
    "expected_close_date",
    "owner",
    "organization",
    "contact",
)


TITLE_MAX = 200


def deal_field_errors(changes: dict[str, Any]) -> dict[str, str]:
    """What is wrong with edited values, by field (normalises the title in place)."""
    errors: dict[str, str] = {}
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"]:
            errors["title"] = "Give the deal a title."
        elif len(changes["title"]) > TITLE_MAX:
            errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    if "value" in changes and (changes["value"] is None or changes["value"] < 0):
        errors["value"] = "A deal's value cannot be negative."
    if "currency" in changes and not re.fullmatch(r"[A-Z]{3}", changes["currency"] or ""):
        errors["currency"] = "Use a three-letter currency code such as EUR."
    if message := day_range_error(changes.get("expected_close_date")):
        errors["expected_close_date"] = message
    return errors


def deal_update(
    *,
    actor: User,
    deal_id: int,
    version: int,
    organization_name: str = "",
    contact_name: str = "",
    **changes: Any,
) -> Deal:
    """Edit a deal's own fields (not its stage, status or position: see ``deal_move``).

    Version-checked like a move, so two people editing at once cannot overwrite each other.
    Raises ``Invalid`` for bad values (empty title, negative value, a currency that is
    not an ISO code, an owner the actor may not choose). A typed organization or contact
    name with no chosen record creates it.
    """
    unknown = set(changes) - set(DEAL_EDITABLE_FIELDS)
    if unknown:
        raise Invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    errors = deal_field_errors(changes)
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        deal = locked_deal(actor=actor, deal_id=deal_id)
        if deal.version != version:
            raise StaleDeal(
                f"“{deal.title}” was changed by someone else while you edited it. "
                "The page now shows the current values; your edits are still in the form, "
                "save again to apply them.",
                deal,
            )
        if "owner" in changes and not may_assign(
            actor=actor, person=changes["owner"], keep=deal.owner_id
        ):
            raise Invalid({"owner": "You cannot give this deal to that person."})
        if changes.get("organization") is None and organization_name:
            changes["organization"] = Organization.objects.create(
                name=organization_name, owner=actor
            )
        if changes.get("contact") is None and contact_name:
            first, _, last = contact_name.partition(" ")
            changes["contact"] = Contact.objects.create(
                first_name=first,
                last_name=last,
                organization=changes.get("organization"),
                owner=actor,
            )
        previous_owner = deal.owner if "owner" in changes else None
        for name, value in changes.items():
            setattr(deal, name, value)
        deal.version += 1
        deal.save(update_fields=[*changes, "version", "updated_at"])
        if previous_owner is not None and previous_owner.pk != deal.owner_id:
            record_owner_change(actor=actor, deal=deal, before=previous_owner, after=deal.owner)
    return deal


def _owner_change(
    deal: Deal, *, actor: User, note: str, at: dt.datetime | None = None
) -> StageChange:
    """The (unsaved) history row of an owner change: the deal stays where it is."""
    return StageChange(
        deal=deal,
        kind=StageChange.Kind.OWNER,
        from_stage_id=deal.stage_id,
        to_stage_id=deal.stage_id,
        from_status=deal.status,
        to_status=deal.status,
        changed_by=actor,
        changed_at=at or timezone.now(),
        note=note[:300],
    )


def record_owner_change(
    *, actor: User, deal: Deal, before: User, after: User, reason: str = ""
) -> None:
    """History and audit rows for a deal given to another owner (ownership is sensitive)."""
    note = f"Owner changed from {before} to {after}" + (f" ({reason})" if reason else "")
    _owner_change(deal, actor=actor, note=note).save()
    audit_record(
        actor,
        action="deal_owner_changed",
        scope=f"deal:{deal.pk}",
        summary=f"“{deal.title}”: {note}",
        changes={"owner": [before.pk, after.pk]},
    )


def deals_hand_over(*, actor: User, from_user: User, to_user: User | None) -> dict[str, int]:
    """Give a leaving user's open deals and planned activities to ``to_user``.

    Called by ``accounts.services.user_deactivate`` inside its transaction. Each deal gets an
    owner history row and a new version (open boards and edit forms see the change); with
    work to hand over and nobody to take it, nothing moves and ``Invalid`` is raised.
    """
    deals = list(
        Deal.objects.select_for_update(of=("self",)).filter(owner=from_user, status="open")
    )
    activities = Activity.objects.filter(assignee=from_user, done_at__isnull=True)
    if to_user is None:
        if deals or activities.exists():
            raise Invalid(
                {"successor": "Choose who takes over the open deals and planned activities."}
            )
        return {"deals": 0, "activities": 0}
    now = timezone.now()
    for deal in deals:
        deal.owner = to_user
        deal.version += 1
        deal.updated_at = now
    Deal.objects.bulk_update(deals, ["owner", "version", "updated_at"], batch_size=500)
    note = f"Owner changed from {from_user} to {to_user} ({from_user} left)"
    StageChange.objects.bulk_create(
        _owner_change(deal, actor=actor, note=note, at=now) for deal in deals
    )
    # The new assignee has not been reminded yet: clearing the claim lets the reminder come.
    moved_activities = activities.update(assignee=to_user, reminded_at=None)
    return {"deals": len(deals), "activities": moved_activities}
