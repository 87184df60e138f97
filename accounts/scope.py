"""Whose work a user sees: the one rule that every list, page, report and cache key uses.

Admins see everyone's work, a manager their team's, a rep their own, and anyone signed out
or deactivated nobody's. ``Scope.of(user)`` is the only place that decides it; deal and
activity visibility, the address book's ``editable_by``, board and report cache keys, report
people, owner choices and assignable people all start from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import Q

Kind = Literal["all", "team", "own", "none"]


@dataclass(frozen=True)
class Scope:
    kind: Kind
    user_id: int | None = None
    team_id: int | None = None

    @classmethod
    def of(cls, user: Any) -> Scope:
        """The scope of ``user`` (a User, an AnonymousUser or None)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return cls("none")
        if user.is_admin:
            return cls("all", user.pk, user.team_id)
        if user.is_manager and user.team_id is not None:
            return cls("team", user.pk, user.team_id)
        return cls("own", user.pk, user.team_id)

    @property
    def sees_nothing(self) -> bool:
        return self.kind == "none"

    def people(self, through: str = "") -> Q:
        """A filter for the people in scope, on users themselves (``through=""``) or on a
        relation that leads to a user (``"owner"``, ``"assignee"``, ``"deal__owner"``)."""
        if self.kind == "all":
            return Q()
        if self.kind == "none":
            return Q(pk__in=[])
        prefix = f"{through}__" if through else ""
        if self.kind == "team":
            return Q(**{f"{prefix}team_id": self.team_id})
        return Q(**{f"{through}_id" if through else "pk": self.user_id})

    @property
    def key(self) -> str:
        """A short text that differs for every scope, for cache keys."""
        if self.kind == "team":
            return f"team:{self.team_id}"
        if self.kind == "own":
            return f"own:{self.user_id}"
        return self.kind
