"""Stage metrics for managers: conversion, time in stage, win rate, velocity and forecast.

Everything is computed from ``StageChange`` (each stay-starting row stores when and how its
stay ended) and ``Deal`` (grouped aggregates), starting from ``Deal.objects.visible_to(user)``:
in PostgreSQL, or for the stage table on other databases by a Python aggregation of the same
stays. The number of queries is fixed whatever the amount of data. docs/metrics.md states
what every number counts.

A *stay* is one uninterrupted spell of an open deal in one stage: it starts with a history row
that puts the open deal in a stage (created, moved, reopened, moved in from another pipeline)
and ends with the deal's next history row (moved on or back, won, lost, moved to another
pipeline). Reorders and owner changes are not history for these metrics.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Team, User
from accounts.scope import Scope
from pipeline.models import Deal, Pipeline, Stage, StageChange
from pipeline.selectors import rotting_q
from pipeline.stays import OUTCOME_SQL, STARTS_STAY_SQL, STAY_KINDS, stay_outcome

DAY = 86400

# One query: every stay of a visible deal in a stage of the pipeline that overlaps the period,
# its outcome, and its seconds inside the period; aggregated per (rep, stage) and per stage.
# Each stay is one history row: the row that started it stores when it ended and the kind and
# stage of the row that ended it (pipeline/history.py), so the query reads only the stays
# overlapping the period, from the covering index stagechange_stays: one range of it for the
# stays that ended after the period began, one for the stays still going on. The pipeline's
# stages come as two arrays (ids, and positions in the same order) rather than a join, so the
# planner's estimates stay those of the index. An end at or after the period's measured end
# counts as "still there", as if the later history did not exist yet.
STAYS_SQL = (
    """
WITH visible AS ({visible}),
overlapping AS (
    SELECT deal_id, to_stage_id, changed_at, ended_at, ended_kind, ended_to_stage_id
    FROM pipeline_stagechange
    WHERE """
    + STARTS_STAY_SQL
    + """ AND ended_at > {start} AND changed_at < {end}
    UNION ALL
    SELECT deal_id, to_stage_id, changed_at, ended_at, ended_kind, ended_to_stage_id
    FROM pipeline_stagechange
    WHERE """
    + STARTS_STAY_SQL
    + """ AND ended_at IS NULL AND changed_at < {end}
),
stays AS (
    SELECT v.owner_id, o.deal_id, o.to_stage_id AS stage_id,
           o.changed_at >= {start} AS entered,
           """
    + OUTCOME_SQL
    + """ AS outcome,
           EXTRACT(EPOCH FROM (LEAST(COALESCE(o.ended_at, {end}), {end})
                               - GREATEST(o.changed_at, {start})))::float8 AS seconds
    FROM overlapping o
    JOIN visible v ON v.id = o.deal_id
    WHERE o.to_stage_id = ANY({stage_ids}::bigint[])
)
SELECT GROUPING(owner_id) AS is_total, owner_id, stage_id,
       COUNT(*) FILTER (WHERE entered) AS entered,
       COUNT(*) FILTER (WHERE entered AND outcome = 'on') AS moved_on,
       COUNT(*) FILTER (WHERE entered AND outcome = 'lost') AS lost,
       COUNT(*) FILTER (WHERE entered AND outcome = 'back') AS moved_back,
       COUNT(*) FILTER (WHERE entered AND outcome = 'away') AS moved_away,
       COUNT(DISTINCT deal_id) FILTER (WHERE entered) AS deals_entered,
       COUNT(*) AS stays,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds,
       AVG(seconds) AS mean_seconds
FROM stays
GROUP BY GROUPING SETS ((owner_id, stage_id), (stage_id))
"""
)


# ---- The period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end) in the viewer's time zone; ``first``/``last`` are the inclusive days."""

    code: str
    first: dt.date
    last: dt.date
    zone: dt.tzinfo

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time.min, tzinfo=self.zone)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min, tzinfo=self.zone)

    def measured_until(self, now: dt.datetime) -> dt.datetime:
        """Where time stops counting: the period's end, or now if that is earlier."""
        return min(self.end, now)


# ---- Results --------------------------------------------------------------------------------


def _ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)) if whole else None


@dataclass
class StageRow:
    """One rep in one stage (or the team total when ``owner`` is None)."""

    stage: Stage
    owner: User | None = None
    entered: int = 0
    deals_entered: int = 0
    moved_on: int = 0
    lost: int = 0
    moved_back: int = 0
    moved_away: int = 0
    stays: int = 0
    median_days: float | None = None
    mean_days: float | None = None
    open_now: int = 0
    open_value: Decimal = Decimal(0)
    rotting_now: int = 0

    @property
    def still_there(self) -> int:
        return self.entered - self.moved_on - self.lost - self.moved_back - self.moved_away

    @property
    def conversion(self) -> Decimal | None:
        return _ratio(self.moved_on, self.entered)


@dataclass
class RepRow:
    owner: User | None  # None: the team total
    open_count: int = 0
    open_value: Decimal = Decimal(0)
    weighted_value: Decimal = Decimal(0)
    won_count: int = 0
    won_value: Decimal = Decimal(0)
    lost_count: int = 0
    cycle_days_total: float = 0.0

    @property
    def win_rate(self) -> Decimal | None:
        return _ratio(self.won_count, self.won_count + self.lost_count)

    @property
    def average_deal(self) -> Decimal | None:
        return (
            (self.won_value / self.won_count).quantize(Decimal("0.01")) if self.won_count else None
        )

    @property
    def cycle_days(self) -> float | None:
        return self.cycle_days_total / self.won_count if self.won_count else None

    @property
    def velocity(self) -> Decimal | None:
        """Expected won value per day: open deals × average won deal × win rate ÷ cycle days."""
        average, win_rate = self.average_deal, self.win_rate
        if not self.won_count or not self.cycle_days or win_rate is None or average is None:
            return None
        cycle = Decimal(str(max(self.cycle_days, 1 / 24)))
        value = self.open_count * average * win_rate / cycle
        return value.quantize(Decimal("0.01"))


@dataclass
class ForecastRow:
    month: dt.date | None  # None: open deals without an expected close date
    count: int = 0
    value: Decimal = Decimal(0)
    weighted_value: Decimal = Decimal(0)
    overdue: bool = False


@dataclass
class LostRow:
    reason: str
    stage: Stage
    count: int


@dataclass
class FunnelRow:
    stage: Stage | None  # None: won, in a pipeline without a post-sale stage
    deals: int


@dataclass
class Report:
    pipeline: Pipeline
    period: Period
    currency: str
    stages: list[Stage]
    people: list[User]
    stage_rows: dict[int | None, list[StageRow]]  # owner id (None: team) → one row per stage
    rep_rows: list[RepRow]
    team_row: RepRow
    forecast: list[ForecastRow]
    lost: list[LostRow]
    funnel: list[FunnelRow]
    stuck: list[StageRow] = field(default_factory=list)
    losing: list[StageRow] = field(default_factory=list)
    computed_at: dt.datetime | None = None

    @property
    def team_stage_rows(self) -> list[StageRow]:
        return self.stage_rows[None]

    @property
    def widest_funnel(self) -> int:
        return max((f.deals for f in self.funnel), default=0)

    @property
    def widest_forecast(self) -> Decimal:
        return max((f.value for f in self.forecast), default=Decimal(0))


# ---- Who is in the report -------------------------------------------------------------------


def report_deals(user: User, team: Team | None = None) -> QuerySet[Deal]:
    deals = Deal.objects.visible_to(user)
    if team is not None and Scope.of(user).kind == "all":
        deals = deals.filter(owner__team=team)
    return deals


def report_people(user: User, team: Team | None = None) -> QuerySet[User]:
    """The people a report has rows for: reps among them always; anyone else (a manager, a
    rep moved to another team) when they own visible deals with stays in the period, open
    now, or closed in the period."""
    people = User.objects.filter(Scope.of(user).people())
    if team is not None and Scope.of(user).kind == "all":
        people = people.filter(team=team)
    return people.order_by("first_name", "last_name", "username")


# ---- The queries ----------------------------------------------------------------------------


def _stays(
    deals: QuerySet[Deal], *, stages: list[Stage], period: Period, now: dt.datetime
) -> list[dict[str, Any]]:
    """Per (rep, stage) and per stage: stays entered in the period and how they ended, and
    the median and mean seconds of every overlapping stay spent inside the period.

    ``stages``: every stage of the pipeline, removed ones included. PostgreSQL aggregates
    in one query; other databases (the SQLite default of a fresh checkout) get the same
    figures aggregated here from the same stays."""
    # Deals closed before the period began cannot have a stay that overlaps it.
    live = deals.filter(created_at__lt=period.end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=period.start)
    )
    if connection.vendor == "postgresql":
        return _stays_in_sql(live, stages=stages, period=period, now=now)
    return _stays_in_python(live, stages=stages, period=period, now=now)


def _stays_in_sql(
    live: QuerySet[Deal], *, stages: list[Stage], period: Period, now: dt.datetime
) -> list[dict[str, Any]]:
    visible_sql, visible_params = live.order_by().values("id", "owner_id").query.sql_with_params()
    values = {
        "start": period.start,
        "end": period.measured_until(now),
        "stage_ids": [stage.pk for stage in stages],
        "positions": [stage.position for stage in stages],
    }
    # Plain placeholders in order (no CTE of parameters), so the planner sees the bounds.
    params: list[Any] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) == "visible":
            params.extend(visible_params)
            return visible_sql
        params.append(values[match.group(1)])
        return "%s"

    sql = re.sub(r"\{(\w+)\}", placeholder, STAYS_SQL)
    with transaction.atomic(), connection.cursor() as cursor:
        # Room to sort the stays in memory, and no JIT compile (it costs more than it saves
        # on a query that runs for well under a second); both only for this transaction.
        cursor.execute(
            "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"
        )
        cursor.execute(sql, params)
        columns = [col[0] for col in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _stays_in_python(
    live: QuerySet[Deal], *, stages: list[Stage], period: Period, now: dt.datetime
) -> list[dict[str, Any]]:
    """What ``STAYS_SQL`` returns, for databases without ``percentile_cont`` and
    ``GROUPING SETS``: the same stays read with the ORM, aggregated here."""
    # In UTC: the period's bounds are wall-clock times of the viewer's zone, and subtracting
    # two of those would ignore a daylight-saving change between them.
    start = period.start.astimezone(dt.UTC)
    end = period.measured_until(now).astimezone(dt.UTC)
    position = {stage.pk: stage.position for stage in stages}
    rows = (
        StageChange.objects.filter(
            kind__in=STAY_KINDS,
            to_status=Deal.Status.OPEN,
            to_stage_id__in=list(position),
            changed_at__lt=end,
            deal__in=live.values("id"),
        )
        .filter(Q(ended_at__gt=start) | Q(ended_at__isnull=True))
        .values_list(
            "deal__owner_id",
            "deal_id",
            "to_stage_id",
            "changed_at",
            "ended_at",
            "ended_kind",
            "ended_to_stage_id",
        )
    )
    groups: dict[tuple[int, int | None, int], list[tuple[int, bool, str, float]]] = {}
    for owner_id, deal_id, stage_id, began, ended, kind, next_stage_id in rows:
        outcome = stay_outcome(
            ended_at=ended,
            ended_kind=kind,
            until=end,
            position=position[stage_id],
            next_position=position.get(next_stage_id),
        )
        seconds = (min(ended or end, end) - max(began, start)).total_seconds()
        stay = (deal_id, began >= start, outcome, seconds)
        groups.setdefault((0, owner_id, stage_id), []).append(stay)
        groups.setdefault((1, None, stage_id), []).append(stay)
    result = []
    for (is_total, group_owner_id, group_stage_id), stays in groups.items():
        entered = [stay for stay in stays if stay[1]]
        durations = [stay[3] for stay in stays]
        outcomes = [stay[2] for stay in entered]
        result.append(
            {
                "is_total": is_total,
                "owner_id": group_owner_id,
                "stage_id": group_stage_id,
                "entered": len(entered),
                "moved_on": outcomes.count("on"),
                "lost": outcomes.count("lost"),
                "moved_back": outcomes.count("back"),
                "moved_away": outcomes.count("away"),
                "deals_entered": len({stay[0] for stay in entered}),
                "stays": len(stays),
                "median_seconds": statistics.median(durations),
                "mean_seconds": statistics.fmean(durations),
            }
        )
    return result


def _now_in_stages(
    deals: QuerySet[Deal], *, stages: list[Stage], currency: str, now: dt.datetime
) -> QuerySet[Deal, dict[str, Any]]:
    return (
        deals.filter(status=Deal.Status.OPEN, stage__in=stages)
        .values("owner_id", "stage_id")
        .annotate(
            n=Count("id"),
            total=Sum("value", filter=Q(currency=currency)),
            rotting=Count("id", filter=rotting_q(stages, now)),
        )
        .order_by()
    )


def _per_rep(
    deals: QuerySet[Deal], *, pipeline: Pipeline, period: Period, currency: str
) -> QuerySet[Deal, dict[str, Any]]:
    open_ = Q(status=Deal.Status.OPEN)
    in_period = Q(closed_at__gte=period.start, closed_at__lt=period.end)
    won = Q(status=Deal.Status.WON) & in_period
    money = Q(currency=currency)
    weighted = ExpressionWrapper(
        F("value") * F("stage__probability") / 100,
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    cycle = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    return (
        # Only open deals and deals closed in the period count for anything here.
        deals.filter(Q(pipeline=pipeline) & (open_ | in_period))
        .values("owner_id")
        .annotate(
            open_count=Count("id", filter=open_),
            open_value=Sum("value", filter=open_ & money),
            weighted_value=Sum(weighted, filter=open_ & money),
            won_count=Count("id", filter=won),
            won_value=Sum("value", filter=won & money),
            lost_count=Count("id", filter=Q(status=Deal.Status.LOST) & in_period),
            cycle_total=Sum(cycle, filter=won),
        )
        .order_by()
    )


def _forecast(
    deals: QuerySet[Deal], *, pipeline: Pipeline, currency: str, today: dt.date
) -> list[ForecastRow]:
    weighted = ExpressionWrapper(
        F("value") * F("stage__probability") / 100,
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    rows = (
        deals.filter(pipeline=pipeline, status=Deal.Status.OPEN, currency=currency)
        .annotate(month=TruncMonth("expected_close_date"))
        .values("month")
        .annotate(n=Count("id"), total=Sum("value"), weighted=Sum(weighted))
        .order_by("month")
    )
    this_month = today.replace(day=1)
    result = [
        ForecastRow(
            month=row["month"],
            count=row["n"],
            value=row["total"] or Decimal(0),
            weighted_value=(row["weighted"] or Decimal(0)).quantize(Decimal("0.01")),
            overdue=row["month"] is not None and row["month"] < this_month,
        )
        for row in rows
    ]
    # Months in order, deals without a date last.
    return sorted(result, key=lambda r: (r.month is None, r.month or this_month))


def _lost_reasons(
    deals: QuerySet[Deal], *, stage_ids: list[int], period: Period
) -> QuerySet[StageChange, dict[str, Any]]:
    return (
        StageChange.objects.filter(
            kind=StageChange.Kind.LOST,
            changed_at__gte=period.start,
            changed_at__lt=period.end,
            from_stage_id__in=stage_ids,
            deal__in=deals.order_by().values("id"),
        )
        .values("note", "from_stage_id")
        .annotate(n=Count("id"))
        .order_by("-n", "note", "from_stage_id")
    )


# ---- The report -----------------------------------------------------------------------------


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / DAY


def stage_report(
    *,
    user: User,
    pipeline: Pipeline,
    period: Period,
    team: Team | None = None,
    now: dt.datetime | None = None,
    currency: str | None = None,
) -> Report:
    """Every figure of the reports page, in a fixed number of queries (see docs/metrics.md)."""
    now = now or timezone.now()
    currency = currency or settings.CRM_DEFAULT_CURRENCY
    deals = report_deals(user, team)
    # Removed stages stay in the report while history still names them.
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
    by_id = {stage.pk: stage for stage in stages}
    open_stages = [s for s in stages if not s.is_won and not s.is_archived]
    people = list(report_people(user, team))

    stays = _stays(deals, stages=stages, period=period, now=now)
    now_rows = list(_now_in_stages(deals, stages=open_stages, currency=currency, now=now))
    rep_rows = list(_per_rep(deals, pipeline=pipeline, period=period, currency=currency))
    forecast = _forecast(
        deals, pipeline=pipeline, currency=currency, today=now.astimezone(period.zone).date()
    )
    lost_rows = list(_lost_reasons(deals, stage_ids=list(by_id), period=period))

    owner_ids = {p.pk for p in people if p.role == User.Role.REP}
    owner_ids |= {r["owner_id"] for r in stays if r["owner_id"] is not None}
    owner_ids |= {r["owner_id"] for r in now_rows} | {r["owner_id"] for r in rep_rows}
    known = {p.pk: p for p in people}
    missing = owner_ids - set(known)
    if missing:  # owners outside the listed people (e.g. moved to another team): one query
        known.update({u.pk: u for u in User.objects.filter(pk__in=missing)})
    owners = sorted(
        (known[pk] for pk in owner_ids),
        key=lambda u: (u.first_name, u.last_name, u.username),
    )

    # Stage rows: only stages that matter (active ones, and removed ones with history).
    seen_stages = {r["stage_id"] for r in stays}
    shown = [s for s in stages if not s.is_won and (not s.is_archived or s.pk in seen_stages)]
    stage_rows: dict[int | None, dict[int, StageRow]] = {
        key: {
            s.pk: StageRow(stage=s, owner=known.get(key) if key is not None else None)
            for s in shown
        }
        for key in [None, *(o.pk for o in owners)]
    }
    for row in stays:
        key = None if row["is_total"] else row["owner_id"]
        target = stage_rows[key].get(row["stage_id"])
        if target is None:
            continue
        for name in ("entered", "deals_entered", "moved_on", "lost", "moved_back", "moved_away"):
            setattr(target, name, row[name])
        target.stays = row["stays"]
        target.median_days = _days(row["median_seconds"])
        target.mean_days = _days(row["mean_seconds"])
    for row in now_rows:
        for key in (None, row["owner_id"]):
            target = stage_rows[key][row["stage_id"]]
            target.open_now += row["n"]
            target.open_value += row["total"] or Decimal(0)
            target.rotting_now += row["rotting"]

    reps: dict[int, RepRow] = {o.pk: RepRow(owner=o) for o in owners}
    team_row = RepRow(owner=None)
    for row in rep_rows:
        for rep in (reps[row["owner_id"]], team_row):
            rep.open_count += row["open_count"]
            rep.open_value += row["open_value"] or Decimal(0)
            rep.weighted_value += (row["weighted_value"] or Decimal(0)).quantize(Decimal("0.01"))
            rep.won_count += row["won_count"]
            rep.won_value += row["won_value"] or Decimal(0)
            rep.lost_count += row["lost_count"]
            if row["cycle_total"] is not None:
                rep.cycle_days_total += row["cycle_total"].total_seconds() / DAY

    losses: dict[int, int] = {}
    lost = []
    for row in lost_rows:
        stage = by_id.get(row["from_stage_id"])
        if stage is not None:
            lost.append(LostRow(reason=row["note"] or "(no reason)", stage=stage, count=row["n"]))
            losses[stage.pk] = losses.get(stage.pk, 0) + row["n"]

    team_stages = list(stage_rows[None].values())
    funnel = [FunnelRow(stage=r.stage, deals=r.deals_entered) for r in team_stages]
    won_stage = next((s for s in stages if s.is_won and not s.is_archived), None)
    funnel.append(FunnelRow(stage=won_stage, deals=team_row.won_count))

    with_time = [r for r in team_stages if r.median_days is not None]
    stuck = sorted(with_time, key=lambda r: -(r.median_days or 0.0))[:3]
    losing = sorted((r for r in team_stages if r.lost), key=lambda r: -r.lost)[:3]
    return Report(
        pipeline=pipeline,
        period=period,
        currency=currency,
        stages=shown,
        people=owners,
        stage_rows={key: list(rows.values()) for key, rows in stage_rows.items()},
        rep_rows=[reps[o.pk] for o in owners],
        team_row=team_row,
        forecast=forecast,
        lost=lost,
        funnel=funnel,
        stuck=stuck,
        losing=losing,
        computed_at=now,
    )


REPORT_CACHE_SECONDS = 600

# Everything a report depends on besides the clock, read in one statement from indexes:
# the newest history row, the newest deal edit, the pipeline's stages and who is in which team.
STAMP_SQL = """
SELECT (SELECT MAX(id) FROM pipeline_stagechange),
       (SELECT MAX(updated_at) FROM pipeline_deal),
       (SELECT md5(string_agg(concat_ws('.', id, name, position, probability, rotting_days,
                                        is_won, is_archived), ',' ORDER BY id))
        FROM pipeline_stage WHERE pipeline_id = %s),
       (SELECT md5(string_agg(concat_ws('.', id, team_id, role, is_active, first_name,
                                        last_name), ',' ORDER BY id))
        FROM accounts_user)
"""


def report_cache_key(
    *, user: User, pipeline: Pipeline, period: Period, team: Team | None, stamp: object
) -> str:
    """What a cached report depends on: whose work the viewer sees (and the team an admin
    chose), the parameters, the data stamp, the hour and the currency."""
    scope = Scope.of(user).key
    if scope == "all":
        scope += f":{team.pk if team else ''}"
    hour = timezone.now().strftime("%Y%m%d%H")
    raw = f"{scope}|{pipeline.pk}|{period}|{stamp}|{hour}|{settings.CRM_DEFAULT_CURRENCY}"
    return "reports:" + hashlib.sha256(raw.encode()).hexdigest()


def cached_stage_report(
    *, user: User, pipeline: Pipeline, period: Period, team: Team | None = None
) -> Report:
    """``stage_report``, kept until anything it depends on changes, or for the hour.

    The key holds the viewer's scope, the parameters and a stamp that changes with every
    history row, deal edit, stage edit and team change; the hour bounds how stale the
    figures that run "until now" (time in stage, rotting) can be. The stamp is PostgreSQL's
    SQL; elsewhere (a development database) every view computes afresh.
    """
    if connection.vendor != "postgresql":
        return stage_report(user=user, pipeline=pipeline, period=period, team=team)
    with connection.cursor() as cursor:
        cursor.execute(STAMP_SQL, [pipeline.pk])
        stamp = cursor.fetchone()
    key = report_cache_key(user=user, pipeline=pipeline, period=period, team=team, stamp=stamp)
    report: Report | None = cache.get(key)
    if report is None:
        report = stage_report(user=user, pipeline=pipeline, period=period, team=team)
        cache.set(key, report, REPORT_CACHE_SECONDS)
    return report


def by_stage_then_rep(report: Report) -> list[StageRow]:
    """The rep × stage table in reading order: per stage, each rep, then the team total."""
    rows = []
    owners = [o.pk for o in report.people]
    for index in range(len(report.stages)):
        for key in owners:
            rows.append(report.stage_rows[key][index])
        rows.append(report.stage_rows[None][index])
    return rows


# ---- Tables as plain rows (CSV export) -------------------------------------------------------


def _num(value: float | Decimal | None, places: int = 2) -> str:
    if value is None:
        return ""
    return f"{float(value):.{places}f}"


def _pct(value: float | Decimal | None) -> str:
    return "" if value is None else f"{float(value) * 100:.1f}"


def _who(owner: User | None) -> str:
    return "Team total" if owner is None else (owner.get_full_name() or owner.username)


def _stage_name(stage: Stage | None) -> str:
    if stage is None:
        return "Won"
    return f"{stage.name} (removed)" if stage.is_archived else stage.name


def table(report: Report, name: str) -> tuple[list[str], list[list[str]]]:
    """One table of the report as a header and rows of text, exactly as the page shows them."""
    cur = report.currency
    if name == "stages":
        header = [
            "Stage", "Rep", "Entered", "Moved on", "Lost", "Moved back", "Other pipeline",
            "Still there at end", "Conversion %", "Median days", "Mean days", "Open now",
            f"Open value {cur}", "Rotting now",
        ]  # fmt: skip
        rows = [
            [
                _stage_name(r.stage),
                _who(r.owner),
                str(r.entered),
                str(r.moved_on),
                str(r.lost),
                str(r.moved_back),
                str(r.moved_away),
                str(r.still_there),
                _pct(r.conversion),
                _num(r.median_days, 1),
                _num(r.mean_days, 1),
                str(r.open_now),
                _num(r.open_value),
                str(r.rotting_now),
            ]  # fmt: skip
            for r in by_stage_then_rep(report)
        ]
    elif name == "reps":
        header = [
            "Rep", "Open deals", f"Pipeline value {cur}", f"Weighted value {cur}", "Won",
            f"Won value {cur}", "Lost", "Win rate %", f"Average deal {cur}", "Sales cycle days",
            f"Velocity {cur}/day",
        ]  # fmt: skip
        rows = [
            [
                _who(r.owner),
                str(r.open_count),
                _num(r.open_value),
                _num(r.weighted_value),
                str(r.won_count),
                _num(r.won_value),
                str(r.lost_count),
                _pct(r.win_rate),
                _num(r.average_deal),
                _num(r.cycle_days, 1),
                _num(r.velocity),
            ]  # fmt: skip
            for r in [*report.rep_rows, report.team_row]
        ]
    elif name == "funnel":
        header = ["Stage", "Deals"]
        rows = [[_stage_name(f.stage), str(f.deals)] for f in report.funnel]
    elif name == "forecast":
        header = ["Expected close month", "Open deals", f"Value {cur}", f"Weighted value {cur}"]
        rows = [
            [
                f.month.strftime("%Y-%m") if f.month else "No date",
                str(f.count),
                _num(f.value),
                _num(f.weighted_value),
            ]
            for f in report.forecast
        ]
    elif name == "lost":
        header = ["Lost reason", "Lost from stage", "Deals"]
        rows = [[r.reason, _stage_name(r.stage), str(r.count)] for r in report.lost]
    else:
        raise KeyError(name)
    return header, rows


TABLES = ("stages", "reps", "funnel", "forecast", "lost")
