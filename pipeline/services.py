"""Writes that carry the pipeline's business rules.

``deal_move`` is the one writer of a deal's stage, status and position: the board, the deal
page, the API, stage removal and the demo data all go through it. Each call locks the deal
row, checks the version the caller saw, writes the deal and its ``StageChange`` in one
transaction, and raises a ``DealError`` subclass (never a half-written change) otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Max, Q, Subquery
from django.utils import timezone

from accounts.models import AuditEntry
from crm.models import Contact, Organization
from crm.validation import day_range_error
from pipeline import selectors
from pipeline.defaults import PIPELINE_TEMPLATES
from pipeline.models import Activity, Deal, Pipeline, Stage, StageChange, column_status
from pipeline.stays import STAY_KINDS

# Gap between neighbouring cards of a column. A move takes the midpoint of its neighbours,
# so about 20 moves into the very same slot fit before the column is renumbered once.
POSITION_GAP = 1 << 20
LOST_REASON_MAX = 300

Outcome = Literal["won", "lost"]


class DealError(Exception):
    """A change the rules refuse; the message is meant for the user."""


class DealNotFound(DealError):
    """The deal does not exist or the user may not see it (answered as 404)."""


class StaleDeal(DealError):
    """Someone else changed the deal since the caller loaded it (answered as 409)."""

    def __init__(self, message: str, deal: Deal):
        super().__init__(message)
        self.deal = deal


class StaleConfiguration(DealError):
    """The stages or pipelines changed since the admin's page was drawn (answered as 409)."""


class InvalidMove(DealError):
    """The move itself makes no sense: wrong pipeline, archived stage, missing reason."""


@dataclass(frozen=True)
class MoveResult:
    deal: Deal
    from_stage: Stage
    change: StageChange | None
    # The card's place in its column as the actor sees it, (1-based place, cards), counted
    # under the column lock so it is true at commit; None when the deal is on no column.
    place: tuple[int, int] | None = None

    @property
    def changed(self) -> bool:
        return self.change is not None


def _locked(queryset, pk: int, missing: str):
    """The row ``pk`` of a visibility-filtered queryset, locked for this transaction.

    No joins are selected: when the lock waits for a concurrent change, PostgreSQL re-checks
    the row against the *old* joined rows, and a moved deal would wrongly look missing.
    """
    row = queryset.select_for_update(of=("self",)).filter(pk=pk).order_by().first()
    if row is None:
        raise DealNotFound(missing)
    return row


def _locked_deal(*, actor, deal_id: int) -> Deal:
    return _locked(
        Deal.objects.visible_to(actor),
        deal_id,
        "This deal does not exist or is not yours to change.",
    )


# ---- Board columns: where a card goes, one writer at a time per column ------------------------
#
# Every write that reads a column (its top, a card's neighbours) and then places a card in it
# first locks that column's Stage row (SELECT ... FOR NO KEY UPDATE, which FK checks of other
# writers do not wait for). A move locks the deal's current column and its target in one
# statement, in id order, and only then the deal row: a renumbering, which rewrites every card
# of a column under that column's lock, can then never wait for a card whose mover waits for
# it. A row lock rather than an advisory lock: it goes through the ORM on every database, is
# taken in the statement that reads the stages anyway, and names the column it protects.
# The unique (stage, position) constraint makes a shared place impossible whatever path writes.


def _lock_columns(*, deal_id: int, stage_id: int | None, outcome: Outcome | None) -> list[Stage]:
    """Lock and read the deal's current stage and the move's target (the given stage, or the
    pipeline's post-sale stage for a win), in id order, with their pipelines."""
    deal = Deal.objects.filter(pk=deal_id)
    wanted = Q(pk__in=deal.values("stage_id"))
    if stage_id is not None:
        wanted |= Q(pk=stage_id)
    if outcome == "won":
        wanted |= Q(pipeline_id__in=deal.values("pipeline_id"), is_won=True, is_archived=False)
    return list(
        Stage.objects.select_related("pipeline")
        .select_for_update(no_key=True, of=("self",))
        .filter(wanted)
        .order_by("pk")
    )


def _lock_stages(stage_ids: list[int]) -> dict[int, Stage]:
    """Lock the columns of these stages (in id order) and read them as they are now."""
    rows = Stage.objects.select_for_update(no_key=True).filter(pk__in=stage_ids).order_by("pk")
    return {stage.pk: stage for stage in rows}


def _place(*, stage: Stage, deal: Deal, above_id: int | None, below_id: int | None) -> int:
    """The position for ``deal`` in ``stage``'s column, read from the column as it is now
    (the caller holds the column's lock).

    Directly after the card named above the drop point, between it and whatever follows it
    now; else directly before the card named below it; else the top of the column. A named
    card that is not in the column (any more) is ignored. A card that already sits there
    keeps its position, so a repeated drop changes nothing. When two neighbours have no room
    left between them the column is renumbered once, keeping its order.
    """
    for _attempt in range(2):
        position = _slot(stage=stage, deal=deal, above_id=above_id, below_id=below_id)
        if position is not None:
            return position
        renumbered = _renumber_column(stage)
        if deal.pk in renumbered:
            deal.position = renumbered[deal.pk]
    raise InvalidMove("This column could not make room for the card; please try again.")


def _slot(*, stage: Stage, deal: Deal, above_id: int | None, below_id: int | None) -> int | None:
    """See ``_place``; None when the neighbours have no room left between them."""
    others = Deal.objects.in_column(stage).exclude(pk=deal.pk).exclude(position=None)
    in_column = deal.stage_id == stage.pk and deal.status == column_status(stage)
    current = deal.position if in_column else None
    if above_id is not None:
        anchor = others.filter(pk=above_id).values("position")
        pair = list(
            others.filter(position__gte=Subquery(anchor))
            .order_by("position")
            .values_list("position", flat=True)[:2]
        )
        if pair:
            low, high = pair[0], pair[1] if len(pair) > 1 else None
            return _between(low, high, current)
    if below_id is not None:
        anchor = others.filter(pk=below_id).values("position")
        pair = list(
            others.filter(position__lte=Subquery(anchor))
            .order_by("-position")
            .values_list("position", flat=True)[:2]
        )
        if pair:
            high, low = pair[0], pair[1] if len(pair) > 1 else None
            return _between(low, high, current)
    top = others.order_by("position").values_list("position", flat=True).first()
    return _between(None, top, current)


def _between(low: int | None, high: int | None, current: int | None) -> int | None:
    """A position strictly between two neighbours (None: no neighbour on that side), the
    current one if it already is, or None if there is no room left."""
    if current is not None and (low is None or low < current) and (high is None or current < high):
        return current
    if low is None:
        return POSITION_GAP if high is None else high - POSITION_GAP
    if high is None:
        return low + POSITION_GAP
    return (low + high) // 2 if high - low > 1 else None


def _renumber_column(stage: Stage) -> dict[int, int]:
    """Spread a column's positions out again, in their order (cards without one last).

    Rare: only when a gap is used up, or when a stage becomes the post-sale stage. The
    positions are emptied first because the unique constraint is checked row by row.
    """
    column = Deal.objects.in_column(stage)
    ids = column.order_by(F("position").asc(nulls_last=True), "id").values_list("pk", flat=True)
    positions = {pk: rank * POSITION_GAP for rank, pk in enumerate(list(ids), start=1)}
    column.exclude(position=None).update(position=None)
    Deal.objects.bulk_update(
        [Deal(pk=pk, position=position) for pk, position in positions.items()],
        ["position"],
        batch_size=1000,
    )
    return positions


def _check_target(*, stage: Stage | None, pipeline_id: int, allow_other_pipeline: bool) -> Stage:
    if stage is None:
        raise InvalidMove("That stage does not exist.")
    if stage.is_archived:
        raise InvalidMove(f"The stage “{stage.name}” has been removed.")
    if stage.pipeline_id != pipeline_id and not allow_other_pipeline:
        raise InvalidMove(f"“{stage.name}” belongs to another pipeline.")
    if stage.pipeline.is_archived:
        raise InvalidMove(f"The pipeline “{stage.pipeline.name}” is archived.")
    return stage


@dataclass(frozen=True)
class MovePlan:
    """Where a move takes a deal: its stage and status afterwards, and the history kind."""

    to_stage: Stage
    to_status: str
    kind: str


def plan_move(
    *,
    status: str,
    from_stage: Stage,
    pipeline_id: int,
    target: Stage | None = None,
    won_stage: Stage | None = None,
    outcome: Outcome | None = None,
    keep_status: bool = False,
    allow_other_pipeline: bool = False,
) -> MovePlan | None:
    """Decide a move from the deal's status and stage alone (no database): None when it is
    already where the move would take it, ``InvalidMove`` when the rules refuse it.

    A win takes the deal into ``won_stage`` (or, with none, keeps its stage); a loss keeps
    the stage it was lost from; a stage reopens a closed deal, or wins it when it is the
    post-sale stage; ``keep_status`` changes the stage alone (stage removal).
    """
    if outcome == "lost":
        if status == Deal.Status.LOST:
            return None
        if from_stage.is_won:
            raise InvalidMove("A won deal cannot be marked lost; reopen it first.")
        return MovePlan(from_stage, Deal.Status.LOST, StageChange.Kind.LOST)
    if outcome == "won":
        if status == Deal.Status.WON:
            return None
        return MovePlan(won_stage or from_stage, Deal.Status.WON, StageChange.Kind.WON)
    to_stage = _check_target(
        stage=target, pipeline_id=pipeline_id, allow_other_pipeline=allow_other_pipeline
    )
    to_status = status if keep_status else column_status(to_stage)
    if to_stage.pipeline_id != pipeline_id:
        kind = StageChange.Kind.PIPELINE
    elif status != to_status:
        kind = StageChange.Kind.WON if to_status == Deal.Status.WON else StageChange.Kind.REOPENED
    elif to_stage.pk != from_stage.pk:
        kind = StageChange.Kind.STAGE
    else:
        kind = StageChange.Kind.REORDER
    return MovePlan(to_stage, to_status, kind)


def deal_move(
    *,
    actor,
    deal_id: int,
    version: int,
    stage_id: int | None = None,
    outcome: Outcome | None = None,
    lost_reason: str = "",
    above_id: int | None = None,
    below_id: int | None = None,
    allow_other_pipeline: bool = False,
    keep_status: bool = False,
    note: str = "",
) -> MoveResult:
    """Move a deal to a stage (and/or a place in its column), or close it as won or lost.

    ``stage_id`` alone moves (or reorders, with ``above_id``/``below_id``) within the deal's
    pipeline; an open stage reopens a won or lost deal. ``outcome="won"`` puts the deal in
    its pipeline's post-sale stage (or, with none, keeps the stage and takes it off the
    board); ``outcome="lost"`` needs a reason and keeps the stage it was lost from.
    ``keep_status`` moves a deal's stage without changing whether it is open, won or lost
    (used when an admin removes a stage). The columns it reads and writes are locked first
    (see above), so the place it announces is still true when it commits.
    """
    if (stage_id is None) == (outcome is None):
        raise InvalidMove("Choose either a stage or an outcome (won or lost).")
    lost_reason = (lost_reason or "").strip()
    if outcome == "lost" and not lost_reason:
        raise InvalidMove("Say why the deal was lost.")
    if len(lost_reason) > LOST_REASON_MAX:
        raise InvalidMove(f"Keep the lost reason under {LOST_REASON_MAX} characters.")

    with transaction.atomic():
        stages = {
            stage.pk: stage
            for stage in _lock_columns(deal_id=deal_id, stage_id=stage_id, outcome=outcome)
        }
        deal = _locked_deal(actor=actor, deal_id=deal_id)
        if deal.version != version or deal.stage_id not in stages:
            raise StaleDeal(
                f"“{deal.title}” was changed by someone else a moment ago. "
                "It now shows its current state; try again if you still want to move it.",
                deal,
            )
        from_stage, from_status = stages[deal.stage_id], deal.status
        won_stage = next(
            (
                s
                for s in stages.values()
                if s.is_won and not s.is_archived and s.pipeline_id == deal.pipeline_id
            ),
            None,
        )
        plan = plan_move(
            status=from_status,
            from_stage=from_stage,
            pipeline_id=deal.pipeline_id,
            target=stages.get(stage_id) if stage_id is not None else None,
            won_stage=won_stage,
            outcome=outcome,
            keep_status=keep_status,
            allow_other_pipeline=allow_other_pipeline,
        )
        if plan is None:
            return MoveResult(deal=deal, from_stage=from_stage, change=None)
        to_stage, to_status, kind = plan.to_stage, plan.to_status, plan.kind
        now = timezone.now()

        if kind == StageChange.Kind.REORDER:
            if deal.pk in (above_id, below_id):
                raise InvalidMove("A deal cannot be placed next to itself.")
            position = _place(stage=to_stage, deal=deal, above_id=above_id, below_id=below_id)
            if position == deal.position:
                return MoveResult(deal=deal, from_stage=from_stage, change=None)
            deal.position = position
        elif to_status == column_status(to_stage):  # the card enters a column
            deal.position = _place(stage=to_stage, deal=deal, above_id=above_id, below_id=below_id)
        else:  # lost, or won with no post-sale stage: on no column
            deal.position = None
        if to_stage.pk != from_stage.pk or (
            to_status != from_status and to_status == Deal.Status.OPEN
        ):
            deal.stage_entered_at = now

        if to_status == Deal.Status.OPEN:
            deal.closed_at = None
        elif to_status != from_status:
            deal.closed_at = now
        deal.stage = to_stage
        deal.pipeline_id = to_stage.pipeline_id
        deal.status = to_status
        deal.lost_reason = (
            (lost_reason or deal.lost_reason) if to_status == Deal.Status.LOST else ""
        )
        deal.version += 1
        deal.save(
            update_fields=[
                "stage",
                "pipeline",
                "status",
                "position",
                "closed_at",
                "lost_reason",
                "stage_entered_at",
                "version",
                "updated_at",
            ]
        )
        change = StageChange.objects.create(
            deal=deal,
            kind=kind,
            from_stage=from_stage,
            to_stage=to_stage,
            from_status=from_status,
            to_status=to_status,
            changed_by=actor,
            changed_at=now,
            note=lost_reason if kind == StageChange.Kind.LOST else note,
        )
        if kind != StageChange.Kind.REORDER:
            _end_stay(deal_id=deal.pk, change=change)
        if to_status == Deal.Status.WON and from_status != Deal.Status.WON:
            _plan_won_follow_up(deal=deal, now=now)
        place = (
            selectors.position_in_column(user=actor, deal=deal)
            if deal.position is not None
            else None
        )
    return MoveResult(deal=deal, from_stage=from_stage, change=change, place=place)


def _end_stay(*, deal_id: int, change: StageChange) -> None:
    """``change`` ends the deal's current stay (if it has one): store when, by which row and
    how (its kind and stage) on the row that started it, in the same transaction (one
    statement; see pipeline/history.py)."""
    StageChange.objects.filter(
        deal_id=deal_id,
        ended_at__isnull=True,
        to_status=Deal.Status.OPEN,
        kind__in=STAY_KINDS,
    ).exclude(pk=change.pk).update(
        ended_at=change.changed_at,
        ended_by=change,
        ended_kind=change.kind,
        ended_to_stage_id=change.to_stage_id,
    )


def _plan_won_follow_up(*, deal: Deal, now) -> None:
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


def deal_create(
    *,
    actor,
    title: str,
    stage: Stage,
    owner=None,
    value: Decimal = Decimal("0"),
    currency: str | None = None,
    organization: Organization | None = None,
    organization_name: str = "",
    contact: Contact | None = None,
    contact_name: str = "",
    expected_close_date=None,
) -> Deal:
    """Create an open deal at the top of ``stage``'s column, with its first history row.

    A typed ``organization_name`` or ``contact_name`` with no chosen record creates that
    entry in the shared address book, in the same transaction.
    """
    if message := day_range_error(expected_close_date):
        raise InvalidDeal({"expected_close_date": message})
    with transaction.atomic():
        # The column's lock first: its top is read below, and the stage may have been
        # removed by an admin since the caller loaded it.
        locked = _lock_stages([stage.pk]).get(stage.pk)
        if locked is None or locked.is_archived or locked.is_won:
            raise InvalidMove("New deals start in an open stage of the pipeline.")
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
        deal.position = _place(stage=locked, deal=deal, above_id=None, below_id=None)
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


class InvalidDeal(DealError):
    """Edited values the rules refuse; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def _deal_field_errors(changes: dict) -> dict[str, str]:
    """What is wrong with edited values, by field (normalises the title in place)."""
    errors = {}
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


def _may_assign(*, actor, person, keep=None) -> bool:
    """Whether ``actor`` may make ``person`` owner or assignee (keeping ``keep`` is fine)."""
    if person is None:
        return False
    if keep is not None and person.pk == keep:
        return True
    return selectors.assignable_people(actor).filter(pk=person.pk).exists()


def deal_update(
    *,
    actor,
    deal_id: int,
    version: int,
    organization_name: str = "",
    contact_name: str = "",
    **changes,
) -> Deal:
    """Edit a deal's own fields (not its stage, status or position: see ``deal_move``).

    Version-checked like a move, so two people editing at once cannot overwrite each other.
    Raises ``InvalidDeal`` for bad values (empty title, negative value, a currency that is
    not an ISO code, an owner the actor may not choose). A typed organization or contact
    name with no chosen record creates it.
    """
    unknown = set(changes) - set(DEAL_EDITABLE_FIELDS)
    if unknown:
        raise InvalidMove(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    errors = _deal_field_errors(changes)
    if errors:
        raise InvalidDeal(errors)
    with transaction.atomic():
        deal = _locked_deal(actor=actor, deal_id=deal_id)
        if deal.version != version:
            raise StaleDeal(
                f"“{deal.title}” was changed by someone else while you edited it. "
                "The page now shows the current values; your edits are still in the form, "
                "save again to apply them.",
                deal,
            )
        if "owner" in changes and not _may_assign(
            actor=actor, person=changes["owner"], keep=deal.owner_id
        ):
            raise InvalidDeal({"owner": "You cannot give this deal to that person."})
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
            _record_owner_change(actor=actor, deal=deal, before=previous_owner, after=deal.owner)
    return deal


def _owner_change(deal: Deal, *, actor, note: str, at=None) -> StageChange:
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


def _record_owner_change(*, actor, deal: Deal, before, after, reason: str = "") -> None:
    """History and audit rows for a deal given to another owner (ownership is sensitive)."""
    note = f"Owner changed from {before} to {after}" + (f" ({reason})" if reason else "")
    _owner_change(deal, actor=actor, note=note).save()
    AuditEntry.objects.create(
        actor=actor,
        action="deal_owner_changed",
        scope=f"deal:{deal.pk}",
        summary=f"“{deal.title}”: {note}"[:300],
        changes={"owner": [before.pk, after.pk]},
    )


def deals_hand_over(*, actor, from_user, to_user) -> dict[str, int]:
    """Give a leaving user's open deals and planned activities to ``to_user``.

    Called by ``accounts.services.user_deactivate`` inside its transaction. Each deal gets an
    owner history row and a new version (open boards and edit forms see the change); with
    work to hand over and nobody to take it, nothing moves and ``InvalidMove`` is raised.
    """
    deals = list(
        Deal.objects.select_for_update(of=("self",)).filter(owner=from_user, status="open")
    )
    activities = Activity.objects.filter(assignee=from_user, done_at__isnull=True)
    if to_user is None:
        if deals or activities.exists():
            raise InvalidMove("Choose who takes over the open deals and planned activities.")
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


def _touch_deal(deal_id: int | None) -> None:
    """Mark a deal as changed so open boards pick up its new next step."""
    if deal_id is not None:
        Deal.objects.filter(pk=deal_id).update(updated_at=timezone.now())


def activity_create(
    *,
    actor,
    kind: str,
    subject: str,
    due_at,
    assignee,
    deal: Deal | None = None,
    contact: Contact | None = None,
    notes: str = "",
) -> Activity:
    """Plan an activity on a deal (or a contact) the caller has already checked the actor sees.

    The assignee must be someone the actor may assign work to; the deal is touched so open
    boards show the new next step.
    """
    if deal is None and contact is None:
        raise InvalidMove("An activity belongs to a deal or a contact.")
    errors = {}
    if kind not in Activity.Kind.values:
        errors["kind"] = "Choose a call, meeting, email, task or follow-up."
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = "Say what the activity is about."
    if not _may_assign(actor=actor, person=assignee):
        errors["assignee"] = "You cannot give this activity to that person."
    if message := day_range_error(due_at):
        errors["due_at"] = message
    if errors:
        raise InvalidDeal(errors)
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
        _touch_deal(deal.pk if deal else None)
    return activity


def activity_complete(*, actor, activity_id: int) -> Activity:
    """Mark an activity done. Completing it again changes nothing (not even the deal)."""
    with transaction.atomic():
        activity = _locked(
            Activity.objects.visible_to(actor),
            activity_id,
            "This activity does not exist or is not yours.",
        )
        if activity.done_at is None:
            activity.done_at = timezone.now()
            activity.save(update_fields=["done_at"])
            _touch_deal(activity.deal_id)
    return activity


ACTIVITY_EDITABLE_FIELDS = ("kind", "subject", "due_at", "assignee", "notes")


def activity_update(*, actor, activity_id: int, **changes) -> Activity:
    """Edit or reschedule an activity. A new due time or assignee clears ``reminded_at``,
    so the reminder comes again for the new time (or to the new person)."""
    unknown = set(changes) - set(ACTIVITY_EDITABLE_FIELDS)
    if unknown:
        raise InvalidMove(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
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
        raise InvalidDeal(errors)
    with transaction.atomic():
        activity = _locked(
            Activity.objects.visible_to(actor),
            activity_id,
            "This activity does not exist or is not yours.",
        )
        if "assignee" in changes and not _may_assign(
            actor=actor, person=changes["assignee"], keep=activity.assignee_id
        ):
            raise InvalidDeal({"assignee": "You cannot give this activity to that person."})
        changed = [name for name, value in changes.items() if getattr(activity, name) != value]
        if not changed:
            return activity
        for name in changed:
            setattr(activity, name, changes[name])
        if {"due_at", "assignee"} & set(changed):
            activity.reminded_at = None
            changed.append("reminded_at")
        activity.save(update_fields=changed)
        _touch_deal(activity.deal_id)
    return activity


def activity_delete(*, actor, activity_id: int) -> Activity:
    """Delete an activity (and its notifications); a second delete finds nothing (404)."""
    with transaction.atomic():
        activity = _locked(
            Activity.objects.visible_to(actor),
            activity_id,
            "This activity does not exist or is not yours.",
        )
        deal_id = activity.deal_id
        activity.delete()
        _touch_deal(deal_id)
    return activity


# ---- Pipeline and stage administration ---------------------------------------------------------


def _require_admin(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied("Only administrators can change pipelines and stages.")


def _audit(actor, *, action: str, pipeline_id: int, summary: str, changes=None) -> None:
    AuditEntry.objects.create(
        actor=actor,
        action=action,
        scope=f"pipeline:{pipeline_id}",
        summary=summary,
        changes=changes or {},
    )


def _locked_pipeline(pipeline_id: int) -> Pipeline:
    """The pipeline row locked: stage changes of one pipeline happen one at a time."""
    pipeline = Pipeline.objects.select_for_update().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise DealNotFound("This pipeline does not exist.")
    return pipeline


def _check_stage_values(*, pipeline: Pipeline, name: str, probability, rotting_days, exclude=None):
    name = (name or "").strip()
    if not name:
        raise InvalidMove("A stage needs a name.")
    if len(name) > 60:
        raise InvalidMove("Keep stage names under 60 characters.")
    taken = Stage.objects.active().filter(pipeline=pipeline, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise InvalidMove(f"This pipeline already has a stage called “{name}”.")
    if probability is None or not 0 <= probability <= 100:
        raise InvalidMove("Win probability must be between 0 and 100.")
    if rotting_days is not None and not 0 < rotting_days <= 3650:
        raise InvalidMove("Rotting days must be between 1 and 3650, or empty.")
    return name


def _active_stages(pipeline: Pipeline) -> list[Stage]:
    """The pipeline's active stages in board order, their rows locked (in id order, as every
    writer locks stage rows) since the caller is about to rewrite some of them."""
    rows = Stage.objects.active().filter(pipeline=pipeline).select_for_update(no_key=True)
    return sorted(rows.order_by("pk"), key=lambda stage: (stage.position, stage.pk))


def _save_order(stages: list[Stage]) -> None:
    for index, stage in enumerate(stages):
        stage.position = index
    Stage.objects.bulk_update(stages, ["position"])


def stage_add(
    *,
    actor,
    pipeline_id: int,
    name: str,
    position: int | None = None,
    probability: int = 10,
    rotting_days: int | None = 14,
    description: str = "",
    goal: str = "",
) -> Stage:
    """Add a stage at ``position`` (0 = first; None = last)."""
    _require_admin(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        name = _check_stage_values(
            pipeline=pipeline, name=name, probability=probability, rotting_days=rotting_days
        )
        stages = _active_stages(pipeline)
        index = len(stages) if position is None else max(0, min(position, len(stages)))
        stage = Stage.objects.create(
            pipeline=pipeline,
            name=name,
            position=index,
            probability=probability,
            rotting_days=rotting_days,
            description=description,
            goal=goal,
        )
        stages.insert(index, stage)
        _save_order(stages)
        _audit(
            actor,
            action="stage_added",
            pipeline_id=pipeline.pk,
            summary=f"Added stage “{name}” at position {index + 1}",
        )
    return stage


STAGE_FIELDS = ("name", "probability", "rotting_days", "description", "goal", "is_won")


def stage_update(*, actor, stage_id: int, **values) -> Stage:
    """Rename a stage or change its probability, rotting days, texts or post-sale flag."""
    _require_admin(actor)
    unknown = set(values) - set(STAGE_FIELDS)
    if unknown:
        raise InvalidMove(f"These stage fields cannot be changed: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        stage = Stage.objects.active().filter(pk=stage_id).first()
        if stage is None:
            raise DealNotFound("This stage does not exist.")
        pipeline = _locked_pipeline(stage.pipeline_id)
        stages = _active_stages(pipeline)
        stage = next((s for s in stages if s.pk == stage.pk), None)
        if stage is None:
            raise DealNotFound("This stage does not exist.")
        merged = {name: values.get(name, getattr(stage, name)) for name in STAGE_FIELDS}
        merged["name"] = _check_stage_values(
            pipeline=pipeline,
            name=merged["name"],
            probability=merged["probability"],
            rotting_days=merged["rotting_days"],
            exclude=stage.pk,
        )
        if merged["is_won"] and not stage.is_won:
            if Deal.objects.filter(stage=stage, status=Deal.Status.OPEN).exists():
                raise InvalidMove(
                    f"“{stage.name}” holds open deals. Move them on before making it the "
                    "post-sale (won) stage."
                )
            previous = [s for s in stages if s.is_won]
            Stage.objects.filter(pk__in=[s.pk for s in previous]).update(is_won=False)
            # Their won deals leave the board; the new post-sale stage's won deals join it.
            Deal.objects.filter(stage__in=previous, status=Deal.Status.WON).update(position=None)
        changes = {
            name: [getattr(stage, name), merged[name]]
            for name in STAGE_FIELDS
            if getattr(stage, name) != merged[name]
        }
        if not changes:
            return stage
        for name, value in merged.items():
            setattr(stage, name, value)
        stage.save(update_fields=list(STAGE_FIELDS))
        if "is_won" in changes and stage.is_won:
            _renumber_column(stage)  # its won deals now show in the column
        elif "is_won" in changes:
            Deal.objects.filter(stage=stage, status=Deal.Status.WON).update(position=None)
        described = (
            ", ".join(
                f"{name.replace('_', ' ')} {old!r} → {new!r}"
                for name, (old, new) in changes.items()
                if name not in {"description", "goal"}
            )
            or "texts updated"
        )
        _audit(
            actor,
            action="stage_changed",
            pipeline_id=pipeline.pk,
            summary=f"Changed stage “{stage.name}”: {described}"[:300],
            changes={k: [str(a), str(b)] for k, (a, b) in changes.items()},
        )
    return stage


def stage_reorder(*, actor, pipeline_id: int, stage_ids: list[int]) -> list[Stage]:
    """Put a pipeline's stages in the given order. The list must name every active stage
    exactly once, so two admins reordering at once can neither lose nor duplicate one."""
    _require_admin(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        stages = {stage.pk: stage for stage in _active_stages(pipeline)}
        if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != set(stages):
            raise StaleConfiguration(
                "The stages changed since this page was loaded. Reload it and try again."
            )
        ordered = [stages[pk] for pk in stage_ids]
        before = [s.name for s in sorted(stages.values(), key=lambda s: (s.position, s.pk))]
        _save_order(ordered)
        after = [s.name for s in ordered]
        if before != after:
            _audit(
                actor,
                action="stages_reordered",
                pipeline_id=pipeline.pk,
                summary=("New stage order: " + " → ".join(after))[:300],
                changes={"order": [before, after]},
            )
    return ordered


def stage_remove(*, actor, stage_id: int, target_stage_id: int | None) -> int:
    """Archive a stage, first moving every deal in it (open, won or lost) to the target stage
    through ``deal_move``, each with its own history row. Returns how many deals moved."""
    _require_admin(actor)
    with transaction.atomic():
        stage = Stage.objects.active().filter(pk=stage_id).first()
        if stage is None:
            raise DealNotFound("This stage does not exist.")
        pipeline = _locked_pipeline(stage.pipeline_id)
        # Every column of the pipeline is locked from here on: no card can enter the stage
        # after its deals have been listed, and the moves below wait for no other lock.
        stages = _active_stages(pipeline)
        if stage.pk not in {s.pk for s in stages}:
            raise DealNotFound("This stage does not exist.")
        open_left = [s for s in stages if s.pk != stage.pk and not s.is_won]
        if not open_left:
            raise InvalidMove("A pipeline keeps at least one open stage.")
        deal_ids = list(Deal.objects.filter(stage=stage).values_list("pk", flat=True))
        target = next((s for s in stages if s.pk == target_stage_id and s.pk != stage.pk), None)
        if deal_ids and target is None:
            raise InvalidMove(f"Choose the stage that the deals in “{stage.name}” move to.")
        for deal_id in deal_ids:
            version = Deal.objects.filter(pk=deal_id).values_list("version", flat=True).get()
            deal_move(
                actor=actor,
                deal_id=deal_id,
                version=version,
                stage_id=target.pk,
                keep_status=True,
                note=f"Stage “{stage.name}” removed",
            )
        stage.is_archived = True
        stage.save(update_fields=["is_archived"])
        _save_order([s for s in stages if s.pk != stage.pk])
        moved = f"; {len(deal_ids)} deal(s) moved to “{target.name}”" if deal_ids else ""
        _audit(
            actor,
            action="stage_removed",
            pipeline_id=pipeline.pk,
            summary=f"Removed stage “{stage.name}”{moved}",
        )
    return len(deal_ids)


def pipeline_create(*, actor, name: str, template: str) -> Pipeline:
    _require_admin(actor)
    if template not in PIPELINE_TEMPLATES:
        raise InvalidMove("Choose one of the offered templates.")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidMove("A pipeline needs a name of at most 100 characters.")
    with transaction.atomic():
        if Pipeline.objects.filter(is_archived=False, name__iexact=name).exists():
            raise InvalidMove(f"A pipeline called “{name}” already exists.")
        last = Pipeline.objects.aggregate(last=Max("position"))["last"]
        pipeline = Pipeline.objects.create(name=name, position=(last or 0) + 1)
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, position=index, **spec)
            for index, spec in enumerate(PIPELINE_TEMPLATES[template][1])
        )
        _audit(
            actor,
            action="pipeline_created",
            pipeline_id=pipeline.pk,
            summary=f"Created pipeline “{name}” from “{PIPELINE_TEMPLATES[template][0]}”",
        )
    return pipeline


def pipeline_update(*, actor, pipeline_id: int, name: str) -> Pipeline:
    _require_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidMove("A pipeline needs a name of at most 100 characters.")
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        taken = Pipeline.objects.filter(is_archived=False, name__iexact=name).exclude(
            pk=pipeline.pk
        )
        if taken.exists():
            raise InvalidMove(f"A pipeline called “{name}” already exists.")
        if pipeline.name != name:
            _audit(
                actor,
                action="pipeline_renamed",
                pipeline_id=pipeline.pk,
                summary=f"Renamed pipeline “{pipeline.name}” to “{name}”",
            )
            pipeline.name = name
            pipeline.save(update_fields=["name"])
    return pipeline


def pipeline_archive(*, actor, pipeline_id: int) -> Pipeline:
    """Hide a pipeline from boards and switchers; its deals and history stay."""
    _require_admin(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        if not Pipeline.objects.filter(is_archived=False).exclude(pk=pipeline.pk).exists():
            raise InvalidMove("Keep at least one active pipeline.")
        pipeline.is_archived = True
        pipeline.save(update_fields=["is_archived"])
        _audit(
            actor,
            action="pipeline_archived",
            pipeline_id=pipeline.pk,
            summary=f"Archived pipeline “{pipeline.name}”",
        )
    return pipeline


def pipeline_reorder(*, actor, pipeline_ids: list[int]) -> None:
    _require_admin(actor)
    with transaction.atomic():
        pipelines = {
            p.pk: p for p in Pipeline.objects.select_for_update().filter(is_archived=False)
        }
        if len(pipeline_ids) != len(set(pipeline_ids)) or set(pipeline_ids) != set(pipelines):
            raise StaleConfiguration("The pipelines changed meanwhile. Reload and try again.")
        before = [p.name for p in sorted(pipelines.values(), key=lambda p: (p.position, p.pk))]
        for index, pk in enumerate(pipeline_ids):
            pipelines[pk].position = index
        Pipeline.objects.bulk_update(pipelines.values(), ["position"])
        after = [pipelines[pk].name for pk in pipeline_ids]
        if before != after:
            AuditEntry.objects.create(
                actor=actor,
                action="pipelines_reordered",
                scope="pipelines",
                summary=("New pipeline order: " + " → ".join(after))[:300],
                changes={"order": [before, after]},
            )
