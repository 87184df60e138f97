"""Pipelines, their stages, deals and everything that happens to a deal.

Behaviour keys on flags (``Stage.is_won``, ``Stage.is_archived``), never on a stage's name,
so admins can rename stages freely. Writes that carry business rules live in
``pipeline/services.py``; this module only describes the data and its integrity rules.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.scope import Scope
from pipeline.stays import NOT_HISTORY_KINDS, STAY_KINDS


class Pipeline(models.Model):
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                condition=Q(is_archived=False),
                name="pipeline_name_unique_ci",
                violation_error_message="A pipeline with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class StageQuerySet(models.QuerySet["Stage"]):
    def active(self) -> StageQuerySet:
        return self.filter(is_archived=False)


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="stages")
    name = models.CharField(max_length=60)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(
        default=10, help_text="Chance, in percent, that a deal in this stage is won."
    )
    rotting_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="A deal that stays longer than this many days is marked as rotting. "
        "Empty: deals here never rot.",
    )
    description = models.TextField(blank=True, help_text="What happens in this stage.")
    goal = models.TextField(blank=True, help_text="What must be true to move a deal on.")
    is_won = models.BooleanField(
        default=False,
        help_text="The post-sale stage: a deal here has been won and is being followed up.",
    )
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StageQuerySet.as_manager()

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100),
                name="stage_probability_0_100",
                violation_error_message="Win probability must be between 0 and 100.",
            ),
            models.UniqueConstraint(
                "pipeline",
                Lower("name"),
                condition=Q(is_archived=False),
                name="stage_name_unique_in_pipeline_ci",
                violation_error_message="This pipeline already has a stage with this name.",
            ),
            models.UniqueConstraint(
                fields=["pipeline"],
                condition=Q(is_won=True, is_archived=False),
                name="stage_one_won_stage_per_pipeline",
                violation_error_message="A pipeline has at most one post-sale (won) stage.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def default_currency() -> str:
    return settings.CRM_DEFAULT_CURRENCY


def column_status(stage: Stage) -> str:
    """The status of the deals a stage's board column shows."""
    return Deal.Status.WON if stage.is_won else Deal.Status.OPEN


class DealQuerySet(models.QuerySet["Deal"]):
    def visible_to(self, user) -> DealQuerySet:
        """The one rule for who sees which deals.

        Reps see the deals they own, managers the deals owned by anyone in their team,
        admins every deal. Anyone else (anonymous, deactivated) sees none (``Scope``).
        """
        scope = Scope.of(user)
        return self.none() if scope.sees_nothing else self.filter(scope.people("owner"))

    def open(self) -> DealQuerySet:
        return self.filter(status=Deal.Status.OPEN)

    def in_column(self, stage: Stage) -> DealQuerySet:
        """The cards of a board column: open deals, or won deals in the post-sale stage."""
        return self.filter(stage=stage, status=column_status(stage))


class Deal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    title = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(
        max_length=3, default=default_currency, help_text="ISO 4217 code, e.g. EUR."
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    # Sparse ordering key within a board column: a move takes the midpoint of its neighbours,
    # so the rest of the column is never renumbered on an ordinary move. Empty while the deal
    # is on no column (lost, or won in a pipeline without a post-sale stage); unique within a
    # stage, so two cards can never share a place (see ``pipeline.services``).
    position = models.BigIntegerField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals"
    )
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    organization = models.ForeignKey(
        "crm.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    expected_close_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.OPEN)
    lost_reason = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealQuerySet.as_manager()

    # Not columns: a board card's next planned step, set by ``pipeline.selectors.load_cards``.
    next_activity_at: dt.datetime | None
    next_activity_subject: str

    class Meta:
        ordering = ["stage__position", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="deal_value_not_negative",
                violation_error_message="A deal's value cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="deal_currency_iso_code",
                violation_error_message="Currency must be a three-letter ISO code such as EUR.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "won", "lost"]), name="deal_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="open", closed_at__isnull=True)
                    | Q(status__in=["won", "lost"], closed_at__isnull=False)
                ),
                name="deal_closed_at_matches_status",
                violation_error_message="Won and lost deals need a close time; open ones none.",
            ),
            models.CheckConstraint(
                condition=~Q(status="lost") | ~Q(lost_reason=""),
                name="deal_lost_has_reason",
                violation_error_message="A lost deal needs a reason.",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="deal_version_positive"),
            # Checked row by row, so a renumbering first empties the column's positions.
            models.UniqueConstraint(
                fields=["stage", "position"],
                name="deal_position_unique_in_stage",
                violation_error_message="Two cards cannot share a place in a column.",
            ),
        ]
        indexes = [
            # Board columns: open deals of a stage in column order.
            models.Index(
                fields=["stage", "position", "id"],
                condition=Q(status__in=["open", "won"]),
                name="deal_board_column",
            ),
            # The board's change stamp: the newest change in a pipeline, read from the index.
            models.Index(fields=["pipeline", "updated_at"], name="deal_pipeline_updated"),
            models.Index(fields=["owner", "status"], name="deal_owner_status"),
            models.Index(fields=["pipeline", "status", "closed_at"], name="deal_pipeline_closed"),
            models.Index(fields=["expected_close_date"], name="deal_expected_close"),
        ]

    def __str__(self) -> str:
        return self.title


class LostReason(models.Model):
    """A reason offered when a deal is marked lost; users may also type their own."""

    text = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("text"),
                condition=Q(is_archived=False),
                name="lostreason_text_unique_ci",
                violation_error_message="This lost reason already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.text


class StageChange(models.Model):
    """One row per change of a deal's stage, status, position or pipeline.

    Written by ``pipeline.services`` in the same transaction as the change itself, so the
    history (and every metric computed from it) can never disagree with the deals.
    """

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STAGE = "stage", "Moved to another stage"
        REORDER = "reorder", "Reordered within its stage"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        REOPENED = "reopened", "Reopened"
        PIPELINE = "pipeline", "Moved to another pipeline"
        OWNER = "owner", "Given to another owner"

    # History belongs to its deal; stages and users are archived or deactivated, never deleted
    # while history names them.
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=4, choices=Deal.Status.choices, blank=True)
    to_status = models.CharField(max_length=4, choices=Deal.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the system made the change.",
    )
    changed_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)
    # On a row that starts a stay (see STAY_KINDS): the deal's next history row that is not a
    # reorder or an owner change, which ends the stay, and when. Empty while the stay lasts.
    # Written in the same transaction as that next row (``pipeline.services``).
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copies of that row's kind and stage, so the stage metrics learn how a stay ended (on,
    # back, lost, won, away) from the row that started it, without reading the row that ended
    # it (the reports read only the stays overlapping a period, from one index).
    # A database default too, so that code from before these columns can still write history
    # while a deployment rolls out.
    ended_kind = models.CharField(max_length=10, choices=Kind.choices, blank=True, db_default="")
    ended_to_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    # What starts and what ends a stay in a stage: pipeline/stays.py.
    STAY_KINDS = STAY_KINDS
    NOT_HISTORY_KINDS = NOT_HISTORY_KINDS

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at", "id"], name="stagechange_deal_time"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_to_stage_time"),
            models.Index(fields=["changed_at"], name="stagechange_time"),
            # Stage metrics: each deal's stage history in order, read from the index alone.
            models.Index(
                fields=["deal", "changed_at", "id"],
                include=["kind", "to_stage", "to_status"],
                condition=~Q(kind__in=list(NOT_HISTORY_KINDS)),
                name="stagechange_metrics",
            ),
            # Stage metrics: every stay by when it ended (empty: still going on), with all
            # the reports read of it, so the stays overlapping a period come from this index.
            models.Index(
                fields=["ended_at", "changed_at"],
                include=["deal", "to_stage", "ended_kind", "ended_to_stage"],
                condition=Q(kind__in=list(STAY_KINDS), to_status="open"),
                name="stagechange_stays",
            ),
            # Lost reasons of a period.
            models.Index(
                fields=["changed_at"],
                include=["deal", "from_stage"],
                condition=Q(kind="lost"),
                name="stagechange_lost_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id} ({self.kind})"


class ActivityQuerySet(models.QuerySet["Activity"]):
    def visible_to(self, user) -> ActivityQuerySet:
        """Activities follow the same rule as deals: own, team's, or all (as assignee, or
        through the deal's owner)."""
        scope = Scope.of(user)
        if scope.sees_nothing:
            return self.none()
        return self.filter(scope.people("assignee") | scope.people("deal__owner"))

    def planned(self) -> ActivityQuerySet:
        return self.filter(done_at__isnull=True)


class Activity(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        TASK = "task", "Task"
        FOLLOW_UP = "follow_up", "Follow-up"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TASK)
    subject = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities"
    )
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(
                condition=Q(deal__isnull=False) | Q(contact__isnull=False),
                name="activity_has_subject",
                violation_error_message="An activity belongs to a deal, a contact or both.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["call", "meeting", "email", "task", "follow_up"]),
                name="activity_kind_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["deal", "due_at"],
                condition=Q(done_at__isnull=True),
                name="activity_next_for_deal",
            ),
            models.Index(fields=["assignee", "done_at", "due_at"], name="activity_assignee"),
            models.Index(
                fields=["due_at"],
                condition=Q(done_at__isnull=True, reminded_at__isnull=True),
                name="activity_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class Notification(models.Model):
    """An in-app message for one user; email goes out alongside where the user wants it.

    ``key`` names the event a notification is about ("reminder:<activity>:<due time>",
    "aging:<deal>:<stage entered>", "digest:<user>:<local date>"); one user gets at most one
    notification per key, which is what makes a repeated or parallel run harmless. The
    ``email_*`` fields are the outbox: a pending email is claimed with a lease, sent, and
    marked sent, so a worker that dies mid-send leaves it to be retried (docs/reminders.md).
    """

    class Email(models.TextChoices):
        NONE = "", "No email"
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30)
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    key = models.CharField(max_length=120, blank=True, default="")
    email_status = models.CharField(
        max_length=8, choices=Email.choices, blank=True, default=Email.NONE
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_claimed_until = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~Q(key=""), name="notification_once_per_key"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at", "created_at"], name="notification_inbox"),
            models.Index(
                fields=["email_claimed_until"],
                condition=Q(email_status="pending"),
                name="notification_email_outbox",
            ),
            models.Index(fields=["deal", "kind", "created_at"], name="notification_deal_kind"),
        ]

    def __str__(self) -> str:
        return self.text
