"""Writes about people and teams: invitations, roles, teams, deactivation.

Every change an admin makes here is sensitive, so each service writes its ``AuditEntry`` in
the same transaction as the change. Errors are ``accounts.errors`` (``Invalid`` with a
message per field, ``NotFound``), raised before anything is written (or inside the
transaction, which then rolls back).
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.audit import audit_record
from accounts.errors import Invalid, NotFound, require_admin
from accounts.models import Team, User

logger = logging.getLogger(__name__)

NAME_MAX = 100
# Changes whenever someone's team, role or access changes. Pages cached per viewer scope
# (the board) include it in their cache keys, so a manager stops seeing a rep's deals the
# moment the rep leaves the team, not when the cache expires.
PEOPLE_STAMP_KEY = "accounts:people-stamp"


def people_stamp() -> str:
    return str(cache.get(PEOPLE_STAMP_KEY, "0"))


def _people_changed() -> None:
    transaction.on_commit(lambda: cache.set(PEOPLE_STAMP_KEY, str(time.time_ns()), None))


def _save_unique(row: User | Team, taken: dict[str, str]) -> None:
    """Save ``row``; if someone saved the same unique name a moment earlier (after our own
    check), refuse with ``taken`` instead of failing on the database's constraint."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:
        raise Invalid(taken) from error


def _require_admin(actor: User) -> None:
    require_admin(actor, "Only administrators manage users and teams.")


def _locked_user(user_id: int) -> User:
    """The user's row, locked, after the rows of every active admin (in id order): two admins
    taking the admin role from each other at the same moment cannot both see the other one
    still there, and every writer locks users in the same order."""
    list(
        User.objects.select_for_update()
        .filter(is_active=True, role=User.Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound("This user does not exist.")
    return user


def _team(team_id: int | str | None) -> Team | None:
    if team_id is None or team_id == "":
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Invalid({"team": "This team does not exist any more."})
    return team


def _other_active_admins(user: User) -> QuerySet[User]:
    return User.objects.filter(is_active=True, role=User.Role.ADMIN).exclude(pk=user.pk)


def _person_errors(
    *, username: str | None, email: str, first_name: str | None, exclude: int | None = None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    users = User.objects.exclude(pk=exclude) if exclude else User.objects.all()
    if username is not None:
        if not username:
            errors["username"] = "Choose a username."
        elif len(username) > 150 or not all(c.isalnum() or c in "@.+-_" for c in username):
            errors["username"] = "Use up to 150 letters, digits and @ . + - _ only."
        elif users.filter(username__iexact=username).exists():
            errors["username"] = "This username is taken."
    if not email:
        errors["email"] = "Enter an email address."
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid email address."
        else:
            if users.filter(email__iexact=email).exists():
                errors["email"] = "Someone already uses this email address."
    if first_name is not None and not first_name:
        errors["first_name"] = "Enter a first name."
    return errors


def invitation_link(user: User) -> str:
    """A one-time link to choose a password (Django's password-reset token)."""
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


def _send_invitation(user: User, actor: User) -> bool:
    """Email the invitation; a mail server that is down is logged, not a failed request
    (the user exists either way, and the admin can send the invitation again)."""
    context = {"user": user, "actor": actor, "link": invitation_link(user)}
    try:
        send_mail(
            subject="You're invited to Pipeline CRM",
            message=render_to_string("accounts/email/invitation.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    except (OSError, smtplib.SMTPException):
        logger.exception("Could not send the invitation to user %s", user.pk)
        return False
    return True


def user_create(
    *,
    actor: User,
    username: str,
    email: str,
    first_name: str,
    last_name: str = "",
    role: str = User.Role.REP,
    team_id: int | str | None = None,
    password: str | None = None,
) -> User:
    """Create a user. Without a password they get an email with a link to choose one."""
    _require_admin(actor)
    username, email = (username or "").strip(), (email or "").strip().lower()
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    errors = _person_errors(username=username, email=email, first_name=first_name)
    if role not in User.Role.values:
        errors["role"] = "Choose rep, manager or admin."
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        team = _team(team_id)
        user = User(
            username=username,
            email=email,
            first_name=first_name[:NAME_MAX],
            last_name=last_name[:NAME_MAX],
            role=role,
            team=team,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        _save_unique(user, {"username": "This username is taken."})
        audit_record(
            actor,
            action="user_created" if password else "user_invited",
            scope=f"user:{user.pk}",
            summary=f"{'Created' if password else 'Invited'} {user} ({user.get_role_display()}"
            f"{', ' + team.name if team else ''})",
            changes={"role": [None, role], "team": [None, team.name if team else None]},
        )
        if not password:
            transaction.on_commit(lambda: _send_invitation(user, actor))
    return user


def user_resend_invitation(*, actor: User, user_id: int) -> User:
    _require_admin(actor)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("This user does not exist or is deactivated.")
    if user.has_usable_password():
        raise Invalid("This user has already chosen a password.")
    if not _send_invitation(user, actor):
        raise Invalid("The email could not be sent. Check the mail settings and try again.")
    return user


def user_update(*, actor: User, user_id: int, role: str, team_id: int | str | None = None) -> User:
    """Change a user's role and team. The last active admin keeps their role."""
    _require_admin(actor)
    if role not in User.Role.values:
        raise Invalid({"role": "Choose rep, manager or admin."})
    with transaction.atomic():
        user = _locked_user(user_id)
        team = _team(team_id)
        if user.role == User.Role.ADMIN and role != User.Role.ADMIN:
            if user.pk == actor.pk:
                raise Invalid({"role": "You cannot take away your own admin role."})
            if not _other_active_admins(user).exists():
                raise Invalid({"role": "Keep at least one active admin."})
        if user.role != role:
            audit_record(
                actor,
                action="role_changed",
                scope=f"user:{user.pk}",
                summary=f"{user}: role {user.get_role_display()} → {User.Role(role).label}",
                changes={"role": [user.role, role]},
            )
        if user.team_id != (team.pk if team else None):
            before = user.team.name if user.team else None
            audit_record(
                actor,
                action="team_changed",
                scope=f"user:{user.pk}",
                summary=f"{user}: team {before or 'none'} → {team.name if team else 'none'}",
                changes={"team": [before, team.name if team else None]},
            )
        if (user.role, user.team_id) != (role, team.pk if team else None):
            _people_changed()
        user.role, user.team = role, team
        user.save(update_fields=["role", "team"])
    return user


HandOver = Callable[..., dict[str, int]]


def user_deactivate(
    *,
    actor: User,
    user_id: int,
    successor_id: int | str | None = None,
    hand_over: HandOver | None = None,
) -> dict[str, int]:
    """Deactivate a user; ``hand_over`` moves their open work to the successor.

    ``accounts`` cannot import ``pipeline`` (apps depend accounts ← crm ← pipeline), so the
    caller passes ``pipeline.services.deals_hand_over``. It runs in this transaction: if it
    refuses (say, open deals but no successor), nothing is deactivated either. Nothing is
    deleted; the user can be reactivated. Returns what the hand-over moved.
    """
    _require_admin(actor)
    with transaction.atomic():
        user = _locked_user(user_id)
        if not user.is_active:
            return {}
        if user.pk == actor.pk:
            raise Invalid("You cannot deactivate yourself.")
        if user.role == User.Role.ADMIN and not _other_active_admins(user).exists():
            raise Invalid("Keep at least one active admin.")
        successor = None
        if successor_id is not None and successor_id != "":
            successor = User.objects.filter(pk=successor_id).first()
            if successor is None or not successor.is_active:
                raise Invalid({"successor": "Choose an active user to take over."})
            if successor.pk == user.pk:
                raise Invalid({"successor": "Choose someone other than the person leaving."})
        moved = hand_over(actor=actor, from_user=user, to_user=successor) if hand_over else {}
        user.is_active = False
        user.save(update_fields=["is_active"])
        _people_changed()
        handed = ", ".join(f"{n} {what}" for what, n in moved.items() if n)
        audit_record(
            actor,
            action="user_deactivated",
            scope=f"user:{user.pk}",
            summary=f"Deactivated {user}"
            + (f"; {handed} handed over to {successor}" if handed else ""),
            changes={"is_active": [True, False], "successor": successor.pk if successor else None}
            | moved,
        )
    return moved


def user_reactivate(*, actor: User, user_id: int) -> User:
    _require_admin(actor)
    with transaction.atomic():
        user = _locked_user(user_id)
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
            _people_changed()
            audit_record(
                actor,
                action="user_reactivated",
                scope=f"user:{user.pk}",
                summary=f"Reactivated {user}",
                changes={"is_active": [False, True]},
            )
    return user


def _team_name(name: str, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid({"name": "Give the team a name."})
    if len(name) > NAME_MAX:
        raise Invalid({"name": f"Keep team names under {NAME_MAX} characters."})
    taken = Team.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise Invalid({"name": f"A team called “{name}” already exists."})
    return name


def team_create(*, actor: User, name: str) -> Team:
    _require_admin(actor)
    name = _team_name(name)
    with transaction.atomic():
        team = Team(name=name)
        _save_unique(team, {"name": f"A team called “{name}” already exists."})
        audit_record(
            actor, action="team_created", scope=f"team:{team.pk}", summary=f"Created team {name}"
        )
    return team


def team_rename(*, actor: User, team_id: int, name: str) -> Team:
    _require_admin(actor)
    with transaction.atomic():
        team = Team.objects.select_for_update().filter(pk=team_id).first()
        if team is None:
            raise NotFound("This team does not exist.")
        name = _team_name(name, exclude=team.pk)
        if team.name != name:
            audit_record(
                actor,
                action="team_renamed",
                scope=f"team:{team.pk}",
                summary=f"Renamed team {team.name} to {name}",
                changes={"name": [team.name, name]},
            )
            team.name = name
            _save_unique(team, {"name": f"A team called “{name}” already exists."})
    return team


def team_set_manager(*, actor: User, team_id: int, user_id: int | str | None) -> User:
    """Make ``user_id`` a manager of the team: they get the manager role and join it."""
    _require_admin(actor)
    with transaction.atomic():
        team = Team.objects.select_for_update().filter(pk=team_id).first()
        if team is None:
            raise NotFound("This team does not exist.")
        # No id chosen: nobody (the form's empty choice), without asking the database.
        user = User.objects.select_for_update().filter(pk=user_id).first() if user_id else None
        if user is None or not user.is_active:
            raise Invalid({"manager": "Choose an active user."})
        if user.role == User.Role.ADMIN:
            raise Invalid({"manager": "Admins already see every team; choose a rep or a manager."})
        if user.role == User.Role.MANAGER and user.team_id == team.pk:
            return user
        before = {"role": user.role, "team": user.team.name if user.team else None}
        user.role, user.team = User.Role.MANAGER, team
        user.save(update_fields=["role", "team"])
        _people_changed()
        audit_record(
            actor,
            action="team_manager_set",
            scope=f"team:{team.pk}",
            summary=f"{user} now manages {team.name}",
            changes={
                "user": user.pk,
                "role": [before["role"], User.Role.MANAGER],
                "team": [before["team"], team.name],
            },
        )
    return user


PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "time_zone",
    "reminder_lead_minutes",
    "email_reminders",
    "email_aging_alerts",
    "email_digest",
)


def profile_update(*, user: User, **fields: Any) -> User:
    """A user's own settings (``PROFILE_FIELDS``); the form has parsed each value."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise Invalid(f"These settings cannot be changed here: {', '.join(sorted(unknown))}.")
    email = fields.get("email")
    if email and User.objects.exclude(pk=user.pk).filter(email__iexact=email).exists():
        raise Invalid({"email": "Someone already uses this email address."})
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    return user
