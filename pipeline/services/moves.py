"""``deal_move``: the one writer of a deal's stage, status and position.

The board, the Move dialog, the deal page, won and lost, stage removal (and the API, import
and bulk moves to come) all go through it. Each call locks the columns it reads and writes
(``pipeline.services.columns``), then the deal row, checks the version the caller saw,
decides the move without the database (``plan_move``), writes the deal and its history row
in one transaction, and raises an ``accounts.errors`` error (never a half-written change)
otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.db import transaction
from django.utils import timezone

from accounts.errors import Invalid
from accounts.models import User
from pipeline import selectors
from pipeline.models import Deal, Stage, StageChange, column_status
from pipeline.services.activities import activity_plan_won_follow_up
from pipeline.services.columns import lock_columns, place_card
from pipeline.services.common import locked_deal
from pipeline.services.errors import StaleDeal
from pipeline.stays import STAY_KINDS

LOST_REASON_MAX = 300


Outcome = Literal["won", "lost"]


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


def _check_target(*, stage: Stage | None, pipeline_id: int, allow_other_pipeline: bool) -> Stage:
    if stage is None:
        raise Invalid("That stage does not exist.")
    if stage.is_archived:
        raise Invalid(f"The stage “{stage.name}” has been removed.")
    if stage.pipeline_id != pipeline_id and not allow_other_pipeline:
        raise Invalid(f"“{stage.name}” belongs to another pipeline.")
    if stage.pipeline.is_archived:
        raise Invalid(f"The pipeline “{stage.pipeline.name}” is archived.")
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
    already where the move would take it, ``Invalid`` when the rules refuse it.

    A win takes the deal into ``won_stage`` (or, with none, keeps its stage); a loss keeps
    the stage it was lost from; a stage reopens a closed deal, or wins it when it is the
    post-sale stage; ``keep_status`` changes the stage alone (stage removal).
    """
    if outcome == "lost":
        if status == Deal.Status.LOST:
            return None
        if from_stage.is_won:
            raise Invalid("A won deal cannot be marked lost; reopen it first.")
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
    actor: User,
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
    lost_reason = _checked_request(stage_id=stage_id, outcome=outcome, lost_reason=lost_reason)
    with transaction.atomic():
        stages = {
            stage.pk: stage
            for stage in lock_columns(
                deal_id=deal_id, stage_id=stage_id, post_sale=outcome == "won"
            )
        }
        deal = _current_deal(actor=actor, deal_id=deal_id, version=version, stages=stages)
        from_stage = stages[deal.stage_id]
        plan = plan_move(
            status=deal.status,
            from_stage=from_stage,
            pipeline_id=deal.pipeline_id,
            target=stages.get(stage_id) if stage_id is not None else None,
            won_stage=_post_sale_stage(stages.values(), pipeline_id=deal.pipeline_id),
            outcome=outcome,
            keep_status=keep_status,
            allow_other_pipeline=allow_other_pipeline,
        )
        unchanged = MoveResult(deal=deal, from_stage=from_stage, change=None)
        if plan is None:
            return unchanged
        position = _new_position(deal=deal, plan=plan, above_id=above_id, below_id=below_id)
        if plan.kind == StageChange.Kind.REORDER and position == deal.position:
            return unchanged
        change = _write_move(
            actor=actor, deal=deal, plan=plan, position=position, lost_reason=lost_reason, note=note
        )
        if plan.to_status == Deal.Status.WON and change.from_status != Deal.Status.WON:
            activity_plan_won_follow_up(deal=deal, now=change.changed_at)
        place = None
        if deal.position is not None:  # counted under the column lock: true at commit
            place = selectors.position_in_column(user=actor, deal=deal)
    return MoveResult(deal=deal, from_stage=from_stage, change=change, place=place)


def _checked_request(*, stage_id: int | None, outcome: Outcome | None, lost_reason: str) -> str:
    """The move's own rules, before any database work; returns the cleaned lost reason."""
    if (stage_id is None) == (outcome is None):
        raise Invalid("Choose either a stage or an outcome (won or lost).")
    lost_reason = (lost_reason or "").strip()
    if outcome == "lost" and not lost_reason:
        raise Invalid({"lost_reason": "Say why the deal was lost."})
    if len(lost_reason) > LOST_REASON_MAX:
        raise Invalid({"lost_reason": f"Keep the lost reason under {LOST_REASON_MAX} characters."})
    return lost_reason


def _current_deal(*, actor: User, deal_id: int, version: int, stages: dict[int, Stage]) -> Deal:
    """The deal row, locked, as the caller saw it (else ``StaleDeal`` with how it is now)."""
    deal = locked_deal(actor=actor, deal_id=deal_id)
    if deal.version != version or deal.stage_id not in stages:
        raise StaleDeal(
            f"“{deal.title}” was changed by someone else a moment ago. "
            "It now shows its current state; try again if you still want to move it.",
            deal,
        )
    return deal


def _post_sale_stage(stages: Iterable[Stage], *, pipeline_id: int) -> Stage | None:
    return next(
        (s for s in stages if s.is_won and not s.is_archived and s.pipeline_id == pipeline_id),
        None,
    )


def _new_position(
    *, deal: Deal, plan: MovePlan, above_id: int | None, below_id: int | None
) -> int | None:
    """The deal's place after the move: in the target column, or none off the board."""
    if plan.kind == StageChange.Kind.REORDER and deal.pk in (above_id, below_id):
        raise Invalid("A deal cannot be placed next to itself.")
    if plan.to_status != column_status(plan.to_stage):
        return None  # lost, or won with no post-sale stage: on no column
    return place_card(stage=plan.to_stage, deal=deal, above_id=above_id, below_id=below_id)


def _write_move(
    *,
    actor: User,
    deal: Deal,
    plan: MovePlan,
    position: int | None,
    lost_reason: str,
    note: str,
) -> StageChange:
    """Write the deal and its history row, and end the stay the move ends."""
    now = timezone.now()
    from_stage_id, from_status = deal.stage_id, deal.status
    to_stage, to_status = plan.to_stage, plan.to_status
    if to_stage.pk != from_stage_id or (to_status != from_status and to_status == "open"):
        deal.stage_entered_at = now
    if to_status == Deal.Status.OPEN:
        deal.closed_at = None
    elif to_status != from_status:
        deal.closed_at = now
    deal.position = position
    deal.stage = to_stage
    deal.pipeline_id = to_stage.pipeline_id
    deal.status = to_status
    deal.lost_reason = (lost_reason or deal.lost_reason) if to_status == Deal.Status.LOST else ""
    deal.version += 1
    deal.save(update_fields=MOVED_FIELDS)
    change = StageChange.objects.create(
        deal=deal,
        kind=plan.kind,
        from_stage_id=from_stage_id,
        to_stage=to_stage,
        from_status=from_status,
        to_status=to_status,
        changed_by=actor,
        changed_at=now,
        note=lost_reason if plan.kind == StageChange.Kind.LOST else note,
    )
    if plan.kind != StageChange.Kind.REORDER:
        _end_stay(deal_id=deal.pk, change=change)
    return change


MOVED_FIELDS = [
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
