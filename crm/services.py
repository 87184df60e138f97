"""Writes to the shared address book. Who may edit is ``editable_by`` on the querysets."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from crm.models import Contact, Organization

CONTACT_FIELDS = {"first_name", "last_name", "email", "phone", "job_title", "organization"}
ORGANIZATION_FIELDS = {"name", "website", "industry", "phone", "city", "country"}


def _update(model, *, actor, pk: int, allowed: set[str], fields: dict):
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


def contact_create(*, actor, **fields) -> Contact:
    if set(fields) - CONTACT_FIELDS:
        raise ValueError("Unknown contact fields.")
    return Contact.objects.create(owner=actor, **fields)


def contact_update(*, actor, contact_id: int, **fields) -> Contact:
    return _update(Contact, actor=actor, pk=contact_id, allowed=CONTACT_FIELDS, fields=fields)


def organization_create(*, actor, **fields) -> Organization:
    if set(fields) - ORGANIZATION_FIELDS:
        raise ValueError("Unknown organization fields.")
    return Organization.objects.create(owner=actor, **fields)


def organization_update(*, actor, organization_id: int, **fields) -> Organization:
    return _update(
        Organization, actor=actor, pk=organization_id, allowed=ORGANIZATION_FIELDS, fields=fields
    )
