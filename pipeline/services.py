"""Writes that carry the pipeline's business rules.

``deal_move`` is the one writer of a deal's stage, status and position: the board, the deal
page, the API, stage removal and the demo data all go through it. Each call locks the deal
row, checks the version the caller saw, writes the deal and its ``StageChange`` in one
transaction, and raises a ``DealError`` subclass (never a half-written change) otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.db import transaction
from django.db.models import F, Min, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from crm.models import Contact, Organization
from pipeline.models import Activity, Deal, Stage, StageChange

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


class InvalidMove(DealError):
    """The move itself makes no sense: wrong pipeline, archived stage, missing reason."""


@dataclass(frozen=True)
class MoveResult:
    deal: Deal
    from_stage: Stage
    change: StageChange | None

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


def _column_position(
    *,
    stage: Stage,
    above_id: int | None,
    below_id: int | None,
    current: Deal | None = None,
) -> int:
    """A position between the cards shown above and below the drop point in ``stage``.

    Neighbours that have left the column since the page was drawn are ignored; with
    neither, the card goes to the top of the column. A card already sitting between its
    neighbours keeps its position, so a repeated drop changes nothing.
    """
    neighbour_ids = [pk for pk in (above_id, below_id) if pk is not None]
    for _attempt in range(2):
        positions = (
            dict(
                Deal.objects.in_column(stage)
                .filter(pk__in=neighbour_ids)
                .values_list("pk", "position")
            )
            if neighbour_ids
            else {}
        )
        above, below = positions.get(above_id), positions.get(below_id)
        if current is not None and current.stage_id == stage.pk:
            after_above = above is None or above < current.position
            before_below = below is None or current.position < below
            if after_above and before_below and (above is not None or below is not None):
                return current.position
        if above is None and below is None:
            top = Deal.objects.in_column(stage).aggregate(top=Min("position"))["top"]
            return POSITION_GAP if top is None else top - POSITION_GAP
        if above is None:
            return below - POSITION_GAP
        if below is None or below <= above:
            return above + POSITION_GAP
        if below - above > 1:
            return (above + below) // 2
        _renumber_column(stage)
    raise InvalidMove("The column is being reordered by someone else; please try again.")


def _renumber_column(stage: Stage) -> None:
    """Spread a column's positions out again. Rare: only when a gap is used up."""
    ranked = (
        Deal.objects.in_column(stage)
        .annotate(rank=Window(RowNumber(), order_by=[F("position").asc(), F("id").asc()]))
        .values_list("pk", "rank")
    )
    updates = [Deal(pk=pk, position=rank * POSITION_GAP) for pk, rank in ranked]
    Deal.objects.bulk_update(updates, ["position"], batch_size=1000)


def _stages_for_move(*, deal: Deal, stage_id: int | None) -> dict[int | str, Stage]:
    """The deal's current stage, the target stage and the pipeline's won stage, in one query."""
    wanted = Q(pk=deal.stage_id) | Q(pipeline_id=deal.pipeline_id, is_won=True, is_archived=False)
    if stage_id is not None:
        wanted |= Q(pk=stage_id)
    stages: dict[int | str, Stage] = {}
    for stage in Stage.objects.select_related("pipeline").filter(wanted):
        stages[stage.pk] = stage
        if stage.is_won and not stage.is_archived and stage.pipeline_id == deal.pipeline_id:
            stages["won"] = stage
    return stages


def _check_target(*, deal: Deal, stage: Stage | None, allow_other_pipeline: bool) -> Stage:
    if stage is None:
        raise InvalidMove("That stage does not exist.")
    if stage.is_archived:
        raise InvalidMove(f"The stage “{stage.name}” has been removed.")
    if stage.pipeline_id != deal.pipeline_id and not allow_other_pipeline:
        raise InvalidMove(f"“{stage.name}” belongs to another pipeline.")
    if stage.pipeline.is_archived:
        raise InvalidMove(f"The pipeline “{stage.pipeline.name}” is archived.")
    return stage


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
    note: str = "",
) -> MoveResult:
    """Move a deal to a stage (and/or a place in its column), or close it as won or lost.

    ``stage_id`` alone moves (or reorders, with ``above_id``/``below_id``) within the deal's
    pipeline; an open stage reopens a won or lost deal. ``outcome="won"`` puts the deal in
    its pipeline's post-sale stage (or, with none, keeps the stage and takes it off the
    board); ``outcome="lost"`` needs a reason and keeps the stage it was lost from.
    """
    if (stage_id is None) == (outcome is None):
        raise InvalidMove("Choose either a stage or an outcome (won or lost).")
    lost_reason = (lost_reason or "").strip()
    if outcome == "lost" and not lost_reason:
        raise InvalidMove("Say why the deal was lost.")
    if len(lost_reason) > LOST_REASON_MAX:
        raise InvalidMove(f"Keep the lost reason under {LOST_REASON_MAX} characters.")

    with transaction.atomic():
        deal = _locked_deal(actor=actor, deal_id=deal_id)
        if deal.version != version:
            raise StaleDeal(
                f"“{deal.title}” was changed by someone else a moment ago. "
                "It now shows its current state; try again if you still want to move it.",
                deal,
            )
        stages = _stages_for_move(deal=deal, stage_id=stage_id)
        from_stage, from_status = stages[deal.stage_id], deal.status
        now = timezone.now()

        if outcome == "lost":
            if deal.status == Deal.Status.LOST:
                return MoveResult(deal=deal, from_stage=from_stage, change=None)
            to_stage, to_status, kind = from_stage, Deal.Status.LOST, StageChange.Kind.LOST
            if from_stage.is_won:
                raise InvalidMove("A won deal cannot be marked lost; reopen it first.")
        elif outcome == "won":
            if deal.status == Deal.Status.WON:
                return MoveResult(deal=deal, from_stage=from_stage, change=None)
            to_stage = stages.get("won", from_stage)
            to_status, kind = Deal.Status.WON, StageChange.Kind.WON
        else:
            to_stage = _check_target(
                deal=deal, stage=stages.get(stage_id), allow_other_pipeline=allow_other_pipeline
            )
            to_status = Deal.Status.WON if to_stage.is_won else Deal.Status.OPEN
            if to_stage.pipeline_id != deal.pipeline_id:
                kind = StageChange.Kind.PIPELINE
            elif from_status != to_status:
                kind = StageChange.Kind.WON if to_status == "won" else StageChange.Kind.REOPENED
            elif to_stage.pk != from_stage.pk:
                kind = StageChange.Kind.STAGE
            else:
                kind = StageChange.Kind.REORDER

        # A card enters a column when it changes stage or comes back onto the board.
        enters_column = to_stage.pk != from_stage.pk or (
            to_status != from_status and to_status == Deal.Status.OPEN
        )
        if kind == StageChange.Kind.REORDER:
            if deal.pk in (above_id, below_id):
                raise InvalidMove("A deal cannot be placed next to itself.")
            position = _column_position(
                stage=to_stage, above_id=above_id, below_id=below_id, current=deal
            )
            if position == deal.position:
                return MoveResult(deal=deal, from_stage=from_stage, change=None)
            deal.position = position
        elif enters_column:
            deal.position = _column_position(stage=to_stage, above_id=above_id, below_id=below_id)
            deal.stage_entered_at = now

        if to_status == Deal.Status.OPEN:
            deal.closed_at = None
        elif to_status != from_status:
            deal.closed_at = now
        deal.stage = to_stage
        deal.pipeline_id = to_stage.pipeline_id
        deal.status = to_status
        deal.lost_reason = lost_reason if to_status == Deal.Status.LOST else ""
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
    return MoveResult(deal=deal, from_stage=from_stage, change=change)


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
    if stage.is_archived or stage.is_won:
        raise InvalidMove("New deals start in an open stage of the pipeline.")
    with transaction.atomic():
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
            position=_column_position(stage=stage, above_id=None, below_id=None),
        )
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
    A typed organization or contact name with no chosen record creates it.
    """
    unknown = set(changes) - set(DEAL_EDITABLE_FIELDS)
    if unknown:
        raise InvalidMove(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        deal = _locked_deal(actor=actor, deal_id=deal_id)
        if deal.version != version:
            raise StaleDeal(
                f"“{deal.title}” was changed by someone else while you edited it. "
                "Review the current values and save again.",
                deal,
            )
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
        for name, value in changes.items():
            setattr(deal, name, value)
        deal.version += 1
        deal.save(update_fields=[*changes, "version", "updated_at"])
    return deal


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
    if deal is None and contact is None:
        raise InvalidMove("An activity belongs to a deal or a contact.")
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
    """Mark an activity done. Completing it again changes nothing."""
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
