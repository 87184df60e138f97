"""What a stay in a stage is and how it ends: the one rule the history, the deal timeline and
the stage metrics share (docs/metrics.md).

A *stay* is one uninterrupted spell of an open deal in one stage. A history row starts one
when it leaves the deal open in a stage by one of ``STAY_KINDS`` (created, moved, reopened,
moved in from another pipeline). The deal's next history row that is not a reorder or an
owner change (``NOT_HISTORY_KINDS``) ends it, and ``stay_outcome`` says how: moved on or
back, won, lost, or away to another pipeline. The SQL forms below are built from the same
constants, and the SQL outcome is tested equal to ``stay_outcome`` case by case.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

STAY_KINDS = ("created", "stage", "reopened", "pipeline")
NOT_HISTORY_KINDS = ("reorder", "owner")

Outcome = Literal["open", "on", "lost", "away", "back"]


def starts_stay(kind: str, to_status: str) -> bool:
    return kind in STAY_KINDS and to_status == "open"


def ends_stay(kind: str) -> bool:
    """Whether a history row ends the deal's current stay (if it has one)."""
    return kind not in NOT_HISTORY_KINDS


def stay_outcome(
    *,
    ended_at: dt.datetime | None,
    ended_kind: str,
    until: dt.datetime,
    position: int,
    next_position: int | None,
) -> Outcome:
    """How a stay in a stage at ``position`` ended, as seen at ``until``.

    ``ended_kind`` and ``next_position`` describe the row that ended it (``next_position``
    None: a stage not of this pipeline). A stay that had not ended by ``until`` is "open".
    """
    if ended_at is None or ended_at >= until:
        return "open"
    if ended_kind == "won":
        return "on"
    if ended_kind == "lost":
        return "lost"
    if ended_kind == "pipeline" or next_position is None:
        return "away"
    return "on" if next_position > position else "back"


def _quoted(kinds: tuple[str, ...]) -> str:
    return ", ".join(f"'{kind}'" for kind in kinds)


# On pipeline_stagechange: the rows that start a stay, and the rows that are history at all.
STARTS_STAY_SQL = f"kind IN ({_quoted(STAY_KINDS)}) AND to_status = 'open'"
ENDS_STAY_SQL = f"kind NOT IN ({_quoted(NOT_HISTORY_KINDS)})"

# ``stay_outcome`` over a row ``o`` of stays (ended_at, ended_kind, to_stage_id,
# ended_to_stage_id), with {end} (``until``) and the pipeline's stages as two arrays of the
# same order, {stage_ids} and {positions}, left for the caller to fill in.
OUTCOME_SQL = """CASE
    WHEN o.ended_at IS NULL OR o.ended_at >= {end} THEN 'open'
    WHEN o.ended_kind = 'won' THEN 'on'
    WHEN o.ended_kind = 'lost' THEN 'lost'
    WHEN o.ended_kind = 'pipeline'
         OR array_position({stage_ids}::bigint[], o.ended_to_stage_id) IS NULL
        THEN 'away'
    WHEN ({positions}::int[])[array_position({stage_ids}::bigint[], o.ended_to_stage_id)]
         > ({positions}::int[])[array_position({stage_ids}::bigint[], o.to_stage_id)]
        THEN 'on'
    ELSE 'back'
END"""
