"""Reads that span relations: what the board and other pages show, computed in the database.

Every read starts from ``Deal.objects.visible_to(user)``. The board costs a fixed number of
queries whatever the number of deals: one for the stages, one aggregate for all column
headers, one window query for the first cards of every column.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import User
from accounts.scope import Scope
from accounts.services import people_stamp
from pipeline.models import Activity, Deal, Pipeline, Stage, StageChange
from pipeline.stays import ends_stay, starts_stay

CARDS_PER_COLUMN = 50


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_archived=False).order_by("position", "id").first()


def active_pipelines() -> list[Pipeline]:
    return list(Pipeline.objects.filter(is_archived=False).order_by("position", "id"))


@dataclass(frozen=True)
class BoardFilters:
    """What the board shows; parsed and checked by ``pipeline.forms.BoardFilterForm``."""

    owner: str = ""  # "" (default for the role), "me", "team", "all" or a user id
    q: str = ""
    rotting: bool = False
    close: str = ""  # "", "overdue", "this_month", "next_month", "this_quarter", "none"

    def as_query(self) -> dict[str, str]:
        params = {"owner": self.owner, "q": self.q, "close": self.close}
        if self.rotting:
            params["rotting"] = "1"
        return {key: value for key, value in params.items() if value}


def _month_start(day: dt.date, months_ahead: int = 0) -> dt.date:
    month_index = day.month - 1 + months_ahead
    return dt.date(day.year + month_index // 12, month_index % 12 + 1, 1)


def close_period(code: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The [start, end) range of expected close dates a period filter means."""
    if code == "overdue":
        return None, today
    if code == "this_month":
        return _month_start(today), _month_start(today, 1)
    if code == "next_month":
        return _month_start(today, 1), _month_start(today, 2)
    if code == "this_quarter":
        quarter_start = _month_start(dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1))
        return quarter_start, _month_start(quarter_start, 3)
    return None, None


def rotting_q(stages: list[Stage], now: dt.datetime) -> Q:
    """Deals that have sat in their stage longer than its rotting days."""
    condition = Q(pk__in=[])
    for stage in stages:
        if stage.rotting_days and not stage.is_won:
            cutoff = now - dt.timedelta(days=stage.rotting_days)
            condition |= Q(stage_id=stage.pk, stage_entered_at__lt=cutoff)
    return condition


def filtered_deals(
    *, user: User, pipeline: Pipeline, filters: BoardFilters, stages: list[Stage]
) -> QuerySet[Deal]:
    """Deals on the board: visible to the user, on a column, and matching the filters."""
    won_stage_ids = [stage.pk for stage in stages if stage.is_won]
    deals = (
        Deal.objects.visible_to(user)
        .filter(pipeline=pipeline, stage__in=stages, status__in=[Deal.Status.OPEN, Deal.Status.WON])
        .filter(Q(status=Deal.Status.OPEN) | Q(status=Deal.Status.WON, stage_id__in=won_stage_ids))
    )
    owner = filters.owner or default_owner_scope(user)
    if owner == "me":
        deals = deals.filter(owner=user)
    elif owner == "team":
        deals = deals.filter(owner__team_id=user.team_id) if user.team_id else deals.none()
    elif owner.isdigit():
        deals = deals.filter(owner_id=int(owner))
    if filters.q:
        deals = deals.filter(
            Q(title__icontains=filters.q)
            | Q(organization__name__icontains=filters.q)
            | Q(contact__first_name__icontains=filters.q)
            | Q(contact__last_name__icontains=filters.q)
        )
    if filters.rotting:
        deals = deals.filter(rotting_q(stages, timezone.now()), status=Deal.Status.OPEN)
    if filters.close == "none":
        deals = deals.filter(expected_close_date__isnull=True)
    elif filters.close:
        start, end = close_period(filters.close, timezone.localdate())
        if start:
            deals = deals.filter(expected_close_date__gte=start)
        if end:
            deals = deals.filter(expected_close_date__lt=end)
        if filters.close == "overdue":
            deals = deals.filter(status=Deal.Status.OPEN)
    return deals


def default_owner_scope(user: User) -> str:
    """The board's owner filter when none is chosen: all that the user may see."""
    return {"all": "all", "team": "team"}.get(Scope.of(user).kind, "me")


def owner_choices(user: User) -> list[User]:
    """The people whose deals this user may filter the board by (none for a rep)."""
    scope = Scope.of(user)
    if scope.kind not in {"all", "team"}:
        return []
    people = User.objects.filter(scope.people(), is_active=True)
    return list(people.order_by("first_name", "last_name", "username"))


@dataclass
class Column:
    stage: Stage
    count: int = 0
    # Money is never added across currencies: one total per currency code.
    totals: dict[str, Decimal] = field(default_factory=dict)
    cards: list[Deal] = field(default_factory=list)

    @property
    def weighted(self) -> dict[str, Decimal]:
        probability = Decimal(self.stage.probability) / 100
        return {
            code: (total * probability).quantize(Decimal("1"))
            for code, total in self.totals.items()
        }

    @property
    def has_more(self) -> bool:
        return self.count > len(self.cards)


CARD_FIELDS = (
    "title",
    "value",
    "currency",
    "stage_id",
    "pipeline_id",
    "position",
    "status",
    "closed_at",
    "expected_close_date",
    "stage_entered_at",
    "version",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "organization__name",
    "contact__first_name",
    "contact__last_name",
    "stage__name",
    "stage__rotting_days",
    "stage__is_won",
    "stage__probability",
)


def load_cards(deals: QuerySet[Deal]) -> list[Deal]:
    """Evaluate deals as board cards: the columns a card shows, plus each next step.

    Two queries however many cards: the cards, then the first planned activity of each
    (``DISTINCT ON`` over the per-deal activity index on PostgreSQL).
    """
    cards = list(
        deals.select_related("owner", "organization", "contact", "stage").only(*CARD_FIELDS)
    )
    if not cards:
        return cards
    planned = (
        Activity.objects.filter(deal_id__in=[card.pk for card in cards], done_at__isnull=True)
        .order_by("deal_id", "due_at", "id")
        .values_list("deal_id", "due_at", "subject")
    )
    if connection.vendor == "postgresql":
        planned = planned.distinct("deal_id")
    first: dict[int, tuple[dt.datetime | None, str]] = {}
    for deal_id, due_at, subject in planned:
        first.setdefault(deal_id, (due_at, subject))
    for card in cards:
        card.next_activity_at, card.next_activity_subject = first.get(card.pk, (None, ""))
    return cards


def column_totals(deals: QuerySet[Deal]) -> tuple[dict[int, int], dict[int, dict[str, Decimal]]]:
    rows = (
        deals.values("stage_id", "currency").annotate(n=Count("id"), total=Sum("value")).order_by()
    )
    counts: dict[int, int] = defaultdict(int)
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        counts[row["stage_id"]] += row["n"]
        totals[row["stage_id"]][row["currency"]] = row["total"]
    return counts, totals


def board_stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.active().order_by("position", "id"))


def board_columns(
    *,
    user: User,
    pipeline: Pipeline,
    filters: BoardFilters,
    stages: list[Stage] | None = None,
    per_column: int = CARDS_PER_COLUMN,
) -> list[Column]:
    """The board's columns in stage order, each with its header figures and first cards."""
    stages = board_stages(pipeline) if stages is None else stages
    deals = filtered_deals(user=user, pipeline=pipeline, filters=filters, stages=stages)
    counts, totals = column_totals(deals)
    ids = _first_card_ids(deals, stages, per_column)
    cards: dict[int, list[Deal]] = defaultdict(list)
    if ids:
        for card in load_cards(Deal.objects.filter(pk__in=ids).order_by("position", "id")):
            cards[card.stage_id].append(card)
    return [
        Column(
            stage=stage,
            count=counts[stage.pk],
            totals=dict(sorted(totals[stage.pk].items())),
            cards=cards[stage.pk],
        )
        for stage in stages
    ]


def _first_card_ids(deals: QuerySet[Deal], stages: list[Stage], per_column: int) -> list[int]:
    """The ids of the first cards of every column, in one query.

    On PostgreSQL each column is its own ``ORDER BY position LIMIT n`` branch of a UNION ALL,
    so every branch reads the board index and stops after n rows, however many deals exist.
    Backends that cannot order inside a compound query rank with a window function instead.
    """
    if not stages:
        return []
    plain = deals.order_by()
    if connection.features.supports_slicing_ordering_in_compound:
        branches = [
            plain.filter(stage_id=stage.pk)
            .order_by("position", "id")
            .values_list("pk", flat=True)[:per_column]
            for stage in stages
        ]
        return list(branches[0].union(*branches[1:], all=True))
    ranked = plain.annotate(
        column_rank=Window(RowNumber(), partition_by="stage_id", order_by=["position", "id"])
    ).filter(column_rank__lte=per_column)
    return list(ranked.values_list("pk", flat=True))


def column_headers(
    *, user: User, pipeline: Pipeline, filters: BoardFilters, stages: list[Stage]
) -> list[Column]:
    """Only the header figures (count, totals) of every column: one aggregate query."""
    deals = filtered_deals(user=user, pipeline=pipeline, filters=filters, stages=stages)
    counts, totals = column_totals(deals)
    return [
        Column(stage=stage, count=counts[stage.pk], totals=dict(sorted(totals[stage.pk].items())))
        for stage in stages
    ]


def more_cards(
    *,
    user: User,
    pipeline: Pipeline,
    filters: BoardFilters,
    stages: list[Stage],
    stage: Stage,
    after: tuple[int, int],
    limit: int = CARDS_PER_COLUMN,
) -> tuple[list[Deal], bool]:
    """The next cards of one column after (position, id), and whether more follow."""
    position, pk = after
    deals = filtered_deals(user=user, pipeline=pipeline, filters=filters, stages=stages)
    page = load_cards(
        deals.filter(stage=stage)
        .filter(Q(position__gt=position) | Q(position=position, id__gt=pk))
        .order_by("position", "id")[: limit + 1]
    )
    return page[:limit], len(page) > limit


def board_card(*, user: User, deal_id: int) -> Deal | None:
    cards = load_cards(Deal.objects.visible_to(user).filter(pk=deal_id))
    return cards[0] if cards else None


def board_stamp(pipeline_id: int) -> str:
    """Changes whenever any deal of the pipeline or any of its stages changes.

    Read from indexes only, so an idle board polling for changes costs almost nothing.
    """
    newest = Deal.objects.filter(pipeline_id=pipeline_id).aggregate(newest=Max("updated_at"))[
        "newest"
    ]
    return f"{newest.timestamp():.6f}" if newest else "0"


def board_cache_key(
    *, user: User, pipeline: Pipeline, filters: BoardFilters, stages: list[Stage], stamp: str
) -> str:
    """Everything the rendered columns depend on, as a cache key.

    The viewer counts only through what they may see (everything, a team, or themselves) and
    their filters; the stamp covers every deal change; the stage list covers renames and
    reordering; the hour covers relative texts such as "3 days in stage".
    """
    owner = filters.owner or default_owner_scope(user)
    scope = Scope.of(user).key
    if owner in {"me", "team"}:
        scope += f":{owner}{user.pk if owner == 'me' else user.team_id}"
    stage_part = ",".join(
        f"{s.pk}.{s.position}.{s.probability}.{s.rotting_days}.{int(s.is_won)}.{s.name}"
        for s in stages
    )
    hour = timezone.now().strftime("%Y%m%d%H")
    people = people_stamp()  # team moves change what a manager's "team" scope holds
    raw = (
        f"{pipeline.pk}|{stamp}|{scope}|{sorted(filters.as_query().items())}|{stage_part}|{hour}"
        f"|{people}"
    )
    return "board:" + hashlib.sha256(raw.encode()).hexdigest()


def position_in_column(*, user: User, deal: Deal) -> tuple[int, int]:
    """(1-based place of the card, cards in the column) as this user sees the column."""
    earlier = Q(position__lt=deal.position) | Q(position=deal.position, id__lt=deal.pk)
    row = (
        Deal.objects.visible_to(user)
        .in_column(deal.stage)
        .aggregate(before=Count("id", filter=earlier), total=Count("id"))
    )
    return row["before"] + 1, row["total"]


def is_rotting(deal: Deal, now: dt.datetime | None = None) -> bool:
    stage = deal.stage
    if deal.status != Deal.Status.OPEN or not stage.rotting_days:
        return False
    return (now or timezone.now()) - deal.stage_entered_at > dt.timedelta(days=stage.rotting_days)


def assignable_people(user: User) -> QuerySet[User]:
    """Whom this user may make owner of a deal or assignee of an activity.

    Reps themselves, managers the active members of their team, admins any active user.
    """
    return User.objects.filter(Scope.of(user).people(), is_active=True)


def assignable_users(user: User) -> list[User]:
    return list(assignable_people(user).order_by("first_name", "last_name", "username"))


@dataclass
class TimelineEntry:
    """One line of a deal's history: a stage or status change, or an activity planned or done."""

    at: dt.datetime
    kind: str  # "change", "planned" or "done"
    change: StageChange | None = None
    activity: Activity | None = None
    stay: dt.timedelta | None = None  # time spent in the stage this change left


def deal_history(deal: Deal) -> tuple[list[TimelineEntry], dict[int, dt.timedelta]]:
    """The deal's timeline (newest first) and the total time it spent in each stage.

    Two queries whatever the length of the history: one for the stage changes, one for the
    activities.
    """
    changes = deal.stage_changes.select_related("from_stage", "to_stage", "changed_by").order_by(
        "changed_at", "id"
    )
    entries: list[TimelineEntry] = []
    stays: dict[int, dt.timedelta] = defaultdict(dt.timedelta)
    current_stage: int | None = None
    entered_at: dt.datetime | None = None
    for change in changes:
        stay = None
        if ends_stay(change.kind) and current_stage is not None and entered_at is not None:
            stay = change.changed_at - entered_at
            stays[current_stage] += stay
            current_stage = None
        if starts_stay(change.kind, change.to_status):
            current_stage, entered_at = change.to_stage_id, change.changed_at
        entries.append(TimelineEntry(at=change.changed_at, kind="change", change=change, stay=stay))
    if current_stage is not None and entered_at is not None and deal.status == Deal.Status.OPEN:
        stays[current_stage] += timezone.now() - entered_at
    activities = deal.activities.select_related("assignee", "created_by")
    for activity in activities.order_by("due_at", "id"):
        entries.append(TimelineEntry(at=activity.created_at, kind="planned", activity=activity))
        if activity.done_at:
            entries.append(TimelineEntry(at=activity.done_at, kind="done", activity=activity))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries, dict(stays)


def closed_deals(*, user: User, pipeline: Pipeline, status: str) -> QuerySet[Deal]:
    """Won or lost deals of a pipeline that the user may see, most recently closed first."""
    return (
        Deal.objects.visible_to(user)
        .filter(pipeline=pipeline, status=status)
        .select_related("stage", "owner", "organization")
        .order_by("-closed_at", "-id")
    )


def other_pipeline_stages(pipeline: Pipeline) -> list[Stage]:
    """The open stages of every other active pipeline, grouped by pipeline in board order."""
    return list(
        Stage.objects.active()
        .filter(is_won=False, pipeline__is_archived=False)
        .exclude(pipeline=pipeline)
        .select_related("pipeline")
        .order_by("pipeline__position", "pipeline_id", "position", "id")
    )
