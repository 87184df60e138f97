import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class Team(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("name"),
                name="team_name_unique_ci",
                violation_error_message="A team with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        REP = "rep", "Sales rep"
        MANAGER = "manager", "Sales manager"
        ADMIN = "admin", "Administrator"

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP)
    # Removing a team leaves its members without one; it never removes people.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # Notification settings. In-app notifications always arrive; these switch emails off.
    reminder_lead_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text="How long before an activity is due its reminder arrives, in minutes.",
    )
    email_reminders = models.BooleanField(
        default=True, help_text="Email me when an activity of mine is coming up."
    )
    email_aging_alerts = models.BooleanField(
        default=True, help_text="Email me when one of my deals has sat too long in its stage."
    )
    email_digest = models.BooleanField(
        default=True,
        help_text="Managers: email me a daily digest of my team's rotting deals and overdue work.",
    )

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["rep", "manager", "admin"]), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(reminder_lead_minutes__lte=7 * 24 * 60),
                name="user_reminder_lead_at_most_a_week",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.role == self.Role.ADMIN or self.is_superuser)

    @property
    def is_manager(self) -> bool:
        return self.is_active and self.role == self.Role.MANAGER

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The user's time zone, in which they enter and read dates (UTC if unset or unknown)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def initials(self) -> str:
        parts = [self.first_name[:1], self.last_name[:1]]
        return ("".join(parts) or self.username[:2]).upper()


class AuditEntry(models.Model):
    """Who changed what, when: sensitive configuration and ownership changes.

    ``scope`` groups entries for the page that shows them (for example "pipeline:3"), and
    ``changes`` keeps the values before and after.
    """

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    scope = models.CharField(max_length=60, db_index=True)
    summary = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return self.summary
