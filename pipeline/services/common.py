"""Small steps the pipeline's services share: locking a row the user may change, telling
open boards that a deal changed, and who may be given work."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.utils import timezone

from accounts.errors import NotFound
from accounts.models import User
from pipeline import selectors
from pipeline.models import Deal

_Row = TypeVar("_Row", bound=Model)


def locked(queryset: QuerySet[_Row], pk: int, missing: str) -> _Row:
    """The row ``pk`` of a visibility-filtered queryset, locked for this transaction.

    No joins are selected: when the lock waits for a concurrent change, PostgreSQL re-checks
    the row against the *old* joined rows, and a moved deal would wrongly look missing.
    """
    row = queryset.select_for_update(of=("self",)).filter(pk=pk).order_by().first()
    if row is None:
        raise NotFound(missing)
    return row


def locked_deal(*, actor: User, deal_id: int) -> Deal:
    return locked(
        Deal.objects.visible_to(actor),
        deal_id,
        "This deal does not exist or is not yours to change.",
    )


def touch_deal(deal_id: int | None) -> None:
    """Mark a deal as changed so open boards pick up its new next step."""
    if deal_id is not None:
        Deal.objects.filter(pk=deal_id).update(updated_at=timezone.now())


def may_assign(*, actor: User, person: User | None, keep: int | None = None) -> bool:
    """Whether ``actor`` may make ``person`` owner or assignee (keeping ``keep`` is fine)."""
    if person is None:
        return False
    if keep is not None and person.pk == keep:
        return True
    return selectors.assignable_people(actor).filter(pk=person.pk).exists()
