"""Writes to the shared address book. Who may edit is ``editable_by`` on the querysets."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import User
from crm.models import Contact, Organization

_Entry = TypeVar("_Entry", Contact, Organization)

CONTACT_FIELDS = {"first_name", "last_name", "email", "phone", "job_title", "organization"}
ORGANIZATION_FIELDS = {"name", "website", "industry", "phone", "city", "country"}


def _update(
    model: type[_Entry], *, actor: User, pk: int, allowed: set[str], fields: dict[str, Any]
) -> _Entry:
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        row = model.objects.editable_by(actor).select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None:
            raise PermissionDenied("Only the owner, their manager or an admin can edit this.")
        for name, value in fields.items():
            setattr(row, name, value)
        row.save(update_fields=[*fields, "updated_at"])
    return row


def contact_create(*, actor: User, **fields: Any) -> Contact:
    if set(fields) - CONTACT_FIELDS:
        raise ValueError("Unknown contact fields.")
    return Contact.objects.create(owner=actor, **fields)


def contact_update(*, actor: User, contact_id: int, **fields: Any) -> Contact:
    return _update(Contact, actor=actor, pk=contact_id, allowed=CONTACT_FIELDS, fields=fields)


def organization_create(*, actor: User, **fields: Any) -> Organization:
    if set(fields) - ORGANIZATION_FIELDS:
        raise ValueError("Unknown organization fields.")
    return Organization.objects.create(owner=actor, **fields)


def organization_update(*, actor: User, organization_id: int, **fields: Any) -> Organization:
    return _update(
        Organization, actor=actor, pk=organization_id, allowed=ORGANIZATION_FIELDS, fields=fields
    )
