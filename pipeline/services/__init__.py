"""Writes that carry the pipeline's business rules, one module per sub-domain.

- ``moves``: ``deal_move``, the one writer of a deal's stage, status and position;
- ``columns``: where a card goes in a board column, under that column's lock;
- ``deals``: creating and editing deals, giving them to someone else;
- ``activities``: planned work on deals and contacts;
- ``configuration``: pipelines and stages, as admins shape them.

Callers import from here. Every refusal is one of ``accounts.errors`` (``NotFound``,
``Stale``, ``Invalid`` with field errors, ``NotAllowed``), raised before anything is written
or inside a transaction that then rolls back.
"""

from accounts.errors import DomainError, Invalid, NotAllowed, NotFound, Stale
from pipeline.services.activities import (
    activity_complete,
    activity_create,
    activity_delete,
    activity_update,
)
from pipeline.services.columns import POSITION_GAP
from pipeline.services.configuration import (
    pipeline_archive,
    pipeline_create,
    pipeline_reorder,
    pipeline_update,
    stage_add,
    stage_remove,
    stage_reorder,
    stage_update,
)
from pipeline.services.deals import (
    DEAL_EDITABLE_FIELDS,
    deal_create,
    deal_update,
    deals_hand_over,
)
from pipeline.services.errors import StaleConfiguration, StaleDeal
from pipeline.services.moves import LOST_REASON_MAX, MoveResult, deal_move, plan_move

__all__ = [
    "DEAL_EDITABLE_FIELDS",
    "LOST_REASON_MAX",
    "POSITION_GAP",
    "DomainError",
    "Invalid",
    "MoveResult",
    "NotAllowed",
    "NotFound",
    "Stale",
    "StaleConfiguration",
    "StaleDeal",
    "activity_complete",
    "activity_create",
    "activity_delete",
    "activity_update",
    "deal_create",
    "deal_move",
    "deal_update",
    "deals_hand_over",
    "pipeline_archive",
    "pipeline_create",
    "pipeline_reorder",
    "pipeline_update",
    "plan_move",
    "stage_add",
    "stage_remove",
    "stage_reorder",
    "stage_update",
]
