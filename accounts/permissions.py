"""Who may do what, in one place.

Seeing: ``Deal.objects.visible_to`` and ``Activity.objects.visible_to`` (pipeline) answer
reps with their own, managers with their team's, admins with everything; the shared address
book (contacts, organizations) is visible to everyone signed in. Changing: the same rule for
deals and activities; the address book through ``editable_by`` on the contact and
organization querysets (crm); pipelines, stages, users, teams and the audit log through
``admin_required``. Outsiders get 404 for objects and 403 for actions.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied


def admin_required(view):
    """Settings are for administrators; anyone else gets 403 and nothing changes."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not getattr(request.user, "is_admin", False):
            raise PermissionDenied("Only administrators can open the settings.")
        return view(request, *args, **kwargs)

    return wrapper
