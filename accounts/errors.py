"""What every service raises when the rules refuse a change, named for what happened.

Views answer them the same way everywhere: ``NotFound`` 404 (another user's object looks
like no object), ``Stale`` 409 (someone else changed it first), ``Invalid`` 400 or 422 with
the message on the form field it concerns, and ``NotAllowed`` 403. ``errors`` maps a form
field ("" for none) to what is wrong, so a view can put each message where it belongs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from django.forms import BaseForm

    from accounts.models import User


class DomainError(Exception):
    """A change the rules refuse; every message is meant for the user."""

    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"": errors}
        super().__init__(" ".join(errors.values()))
        self.errors = errors

    def add_to(self, form: BaseForm) -> None:
        """Put each message on the form field it names (the others on the whole form)."""
        for field, message in self.errors.items():
            form.add_error(field if field in form.fields else None, message)


class NotFound(DomainError):
    """The object does not exist, or the user may not see it."""


class Stale(DomainError):
    """Someone else changed the object since the caller loaded it."""


class Invalid(DomainError):
    """The values, or the change asked for, break a rule."""


class NotAllowed(PermissionDenied):
    """The user's role does not allow this action. A ``PermissionDenied`` (Django answers
    403), deliberately not a ``DomainError``, so that no handler of refused values hides it."""


def require_admin(actor: User, message: str) -> None:
    """Configuration, users and teams are the administrators' to change."""
    if not getattr(actor, "is_admin", False):
        raise NotAllowed(message)
