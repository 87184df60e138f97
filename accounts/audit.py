"""The audit log's one writer: who changed what sensitive setting or ownership, and when."""

from __future__ import annotations

from typing import Any

from accounts.models import AuditEntry, User


def audit_record(
    actor: User | None,
    *,
    action: str,
    scope: str,
    summary: str,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit row in the caller's transaction (``scope`` names what changed, e.g.
    ``"user:7"`` or ``"pipeline:2"``; the summary is cut to what the log shows)."""
    return AuditEntry.objects.create(
        actor=actor, action=action, scope=scope, summary=summary[:300], changes=changes or {}
    )
