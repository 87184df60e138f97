"""Board columns: where a card goes, one writer at a time per column.

Every write that reads a column (its top, a card's neighbours) and then places a card in it
first locks that column's Stage row (SELECT ... FOR NO KEY UPDATE, which FK checks of other
writers do not wait for). A move locks the deal's current column and its target in one
statement, in id order, and only then the deal row: a renumbering, which rewrites every card
of a column under that column's lock, can then never wait for a card whose mover waits for
it. A row lock rather than an advisory lock: it goes through the ORM on every database, is
taken in the statement that reads the stages anyway, and names the column it protects.
The unique (stage, position) constraint makes a shared place impossible whatever path writes.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet, Subquery

from accounts.errors import Invalid
from pipeline.models import Deal, Stage, column_status

# Gap between neighbouring cards of a column. A move takes the midpoint of its neighbours,
# so about 20 moves into the very same slot fit before the column is renumbered once.
POSITION_GAP = 1 << 20


def lock_columns(*, deal_id: int, stage_id: int | None, post_sale: bool) -> list[Stage]:
    """Lock and read the deal's current stage and the move's target (the given stage, and
    with ``post_sale`` the pipeline's post-sale stage), in id order, with their pipelines."""
    deal = Deal.objects.filter(pk=deal_id)
    wanted = Q(pk__in=deal.values("stage_id"))
    if stage_id is not None:
        wanted |= Q(pk=stage_id)
    if post_sale:
        wanted |= Q(pipeline_id__in=deal.values("pipeline_id"), is_won=True, is_archived=False)
    return list(
        Stage.objects.select_related("pipeline")
        .select_for_update(no_key=True, of=("self",))
        .filter(wanted)
        .order_by("pk")
    )


def lock_stages(stage_ids: list[int]) -> dict[int, Stage]:
    """Lock the columns of these stages (in id order) and read them as they are now."""
    rows = Stage.objects.select_for_update(no_key=True).filter(pk__in=stage_ids).order_by("pk")
    return {stage.pk: stage for stage in rows}


def place_card(*, stage: Stage, deal: Deal, above_id: int | None, below_id: int | None) -> int:
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
        renumbered = renumber_column(stage)
        if deal.pk in renumbered:
            deal.position = renumbered[deal.pk]
    raise Invalid("This column could not make room for the card; please try again.")


def _slot(*, stage: Stage, deal: Deal, above_id: int | None, below_id: int | None) -> int | None:
    """See ``place_card``; None when the neighbours have no room left between them."""
    others = Deal.objects.in_column(stage).exclude(pk=deal.pk).exclude(position=None)
    in_column = deal.stage_id == stage.pk and deal.status == column_status(stage)
    current = deal.position if in_column else None
    if above_id is not None and (pair := _anchor_and_next(others, above_id, downwards=True)):
        return _between(pair[0], pair[1], current)
    if below_id is not None and (pair := _anchor_and_next(others, below_id, downwards=False)):
        return _between(pair[1], pair[0], current)
    top = others.order_by("position").values_list("position", flat=True).first()
    return _between(None, top, current)


def _anchor_and_next(
    others: QuerySet[Deal], anchor_id: int, *, downwards: bool
) -> tuple[int, int | None] | None:
    """The named card's position and its neighbour's now (below it, or above it), in one
    query; None when the card is not in the column."""
    anchor = Subquery(others.filter(pk=anchor_id).values("position"))
    if downwards:
        rows = others.filter(position__gte=anchor).order_by("position")
    else:
        rows = others.filter(position__lte=anchor).order_by("-position")
    pair = [p for p in rows.values_list("position", flat=True)[:2] if p is not None]
    if not pair:
        return None
    return pair[0], pair[1] if len(pair) > 1 else None


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


def renumber_column(stage: Stage) -> dict[int, int]:
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
