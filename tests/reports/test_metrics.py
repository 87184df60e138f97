"""Stage metrics against a hand-computed history (tests/reports/stage_history.py)."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection

from pipeline.history import stage_changes_link_stays
from pipeline.models import StageChange
from reports import selectors as metrics
from reports.selectors import Period
from tests.factories import DealFactory, PipelineFactory, StageFactory
from tests.reports import stage_history
from tests.reports.stage_history import FIRST_DAY, LAST_DAY, NOW

pytestmark = pytest.mark.django_db

UTC = zoneinfo.ZoneInfo("UTC")
Q2 = Period(code="custom", first=FIRST_DAY, last=LAST_DAY, zone=UTC)
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="compares the portable aggregation with the PostgreSQL-only SQL "
    "(percentile_cont, GROUPING SETS), which SQLite cannot run",
)


@pytest.fixture
def history(rep, other_rep, outsider):
    return stage_history.build(rep, other_rep, outsider)


def report_for(user, history, period=Q2):
    return metrics.stage_report(user=user, pipeline=history.pipeline, period=period, now=NOW)


def row(report, owner, stage):
    key = owner.pk if owner is not None else None
    return next(r for r in report.stage_rows[key] if r.stage.pk == stage.pk)


def counts(r):
    return (r.entered, r.moved_on, r.lost, r.moved_back, r.moved_away, r.still_there)


def approx_days(value):
    return pytest.approx(value, abs=1e-6)


def test_a_reps_stage_rows_count_entries_exits_and_time_inside_the_period(manager, rep, history):
    report = report_for(manager, history)
    lead = row(report, rep, history.lead)
    # D2 twice (it came back), D3, D8; D1 entered before the period; the reorder and the
    # owner change of D8 end nothing.
    assert counts(lead) == (4, 4, 0, 0, 0, 0)
    assert lead.deals_entered == 3
    assert lead.conversion == 1
    assert lead.median_days == approx_days(4)  # stays 5 (D1, clipped), 2, 2, 5, 4
    assert lead.mean_days == approx_days(3.6)

    demo = row(report, rep, history.demo)
    assert counts(demo) == (2, 0, 1, 1, 0, 0)
    assert demo.conversion == 0
    assert demo.median_days == approx_days(8)  # 2 and 14

    offer = row(report, rep, history.offer)
    # D1 won; D3 lost, then reopened and still there at the end (its win is after the end);
    # D8 still there.
    assert counts(offer) == (4, 1, 1, 0, 0, 2)
    assert offer.conversion == Decimal("0.25")
    assert offer.median_days == approx_days(28)  # 15, 15, 41, 85
    assert offer.mean_days == approx_days(39)


def test_other_reps_rows_cover_removed_stages_and_moves_to_another_pipeline(
    manager, other_rep, history
):
    report = report_for(manager, history)
    # D5 left for the Renewals pipeline: entered, neither moved on nor lost.
    assert counts(row(report, other_rep, history.lead)) == (1, 0, 0, 0, 1, 0)
    # D4 sat in Demo from before the period until the stage was removed (day 60).
    demo = row(report, other_rep, history.demo)
    assert counts(demo) == (0, 0, 0, 0, 0, 0)
    assert demo.median_days == approx_days(60)
    offer = row(report, other_rep, history.offer)
    assert counts(offer) == (1, 0, 0, 0, 0, 1)
    assert offer.median_days == approx_days(31)
    assert (offer.open_now, offer.open_value, offer.rotting_now) == (1, Decimal(4000), 1)


def test_the_team_total_row_takes_medians_over_all_stays_not_over_reps(manager, history):
    report = report_for(manager, history)
    lead = row(report, None, history.lead)
    assert counts(lead) == (5, 4, 0, 0, 1, 0)
    assert lead.median_days == approx_days(4.5)  # 2, 2, 4, 5, 5, 5
    assert lead.mean_days == approx_days(23 / 6)
    demo = row(report, None, history.demo)
    assert counts(demo) == (2, 0, 1, 1, 0, 0)
    assert demo.median_days == approx_days(14)  # 2, 14, 60
    offer = row(report, None, history.offer)
    assert counts(offer) == (5, 1, 1, 0, 0, 3)
    assert offer.conversion == Decimal("0.2")
    assert offer.median_days == approx_days(31)  # 15, 15, 31, 41, 85
    assert offer.mean_days == approx_days(37.4)
    assert (offer.open_now, offer.open_value, offer.rotting_now) == (2, Decimal(12000), 2)


def test_removed_and_renamed_stages_keep_their_history_under_their_current_name(manager, history):
    report = report_for(manager, history)
    assert [s.name for s in report.stages] == ["New lead", "Demo", "Offer"]
    header, rows = metrics.table(report, "stages")
    assert {r[0] for r in rows} == {"New lead", "Demo (removed)", "Offer"}


def test_per_rep_results_win_rate_cycle_and_velocity(manager, rep, other_rep, history):
    report = report_for(manager, history)
    rita, oscar = (next(r for r in report.rep_rows if r.owner == p) for p in (rep, other_rep))
    # D8 open (Offer, 50 %); D1 won in the period after 30 days; D2 lost; D3's win is after
    # the period and D3 is no longer lost, so it counts nowhere.
    assert (rita.open_count, rita.open_value, rita.weighted_value) == (1, 8000, 4000)
    assert (rita.won_count, rita.won_value, rita.lost_count) == (1, 1000, 1)
    assert rita.win_rate == Decimal("0.5")
    assert rita.average_deal == 1000
    assert rita.cycle_days == pytest.approx(30)
    assert rita.velocity == Decimal("16.67")  # 1 × 1000 × 0.5 ÷ 30
    # D4 open; D5 is in another pipeline now; D6 was lost before the period.
    assert (oscar.open_count, oscar.won_count, oscar.lost_count) == (1, 0, 0)
    assert oscar.win_rate is None and oscar.velocity is None
    team = report.team_row
    assert (team.open_count, team.open_value, team.weighted_value) == (2, 12000, 6000)
    assert team.velocity == Decimal("33.33")  # 2 × 1000 × 0.5 ÷ 30


def test_funnel_forecast_lost_reasons_and_where_deals_get_stuck(manager, history):
    report = report_for(manager, history)
    assert [(f.stage.name if f.stage else None, f.deals) for f in report.funnel] == [
        ("New lead", 4),
        ("Demo", 1),
        ("Offer", 4),
        ("Won", 1),
    ]
    assert [(f.month, f.count, f.value, f.weighted_value) for f in report.forecast] == [
        (dt.date(2026, 8, 1), 1, 4000, 2000),
        (None, 1, 8000, 4000),
    ]
    assert [(r.reason, r.stage.name, r.count) for r in report.lost] == [
        ("Price", "Demo", 1),
        ("Timing", "Offer", 1),
    ]
    assert [r.stage.name for r in report.stuck] == ["Offer", "Demo", "New lead"]
    assert [r.stage.name for r in report.losing] == ["Demo", "Offer"]


def test_a_rep_sees_only_their_own_deals(rep, other_rep, history):
    report = report_for(rep, history)
    assert report.people == [rep]
    assert counts(row(report, None, history.lead)) == (4, 4, 0, 0, 0, 0)
    assert report.team_row.open_count == 1


def test_an_admin_sees_everyone_and_can_narrow_to_one_team(admin, outsider, history):
    everyone = report_for(admin, history)
    assert outsider in everyone.people
    lead = row(everyone, None, history.lead)
    assert counts(lead) == (6, 5, 0, 0, 1, 0)
    assert lead.median_days == approx_days(4)  # 2, 2, 2, 4, 5, 5, 5
    west = metrics.stage_report(
        user=admin, pipeline=history.pipeline, period=Q2, now=NOW, team=outsider.team
    )
    assert west.people == [outsider]
    assert counts(row(west, None, history.offer)) == (1, 0, 0, 0, 0, 1)
    assert row(west, None, history.offer).median_days == approx_days(88)


def test_time_only_counts_until_now_in_a_period_that_has_not_ended(manager, rep, history):
    # Q3 from 1 July, "now" is 15 July: D8 has sat in Offer for all 14 days of it, D3 for
    # 4 days until its win on 5 July.
    q3 = Period(code="quarter", first=dt.date(2026, 7, 1), last=dt.date(2026, 7, 15), zone=UTC)
    report = report_for(manager, history, period=q3)
    offer = row(report, rep, history.offer)
    assert offer.entered == 0
    assert offer.median_days == approx_days(9)
    assert offer.mean_days == approx_days(9)
    assert report.team_row.won_count == 1  # D3, won inside Q3


def test_period_boundaries_are_midnight_in_the_viewers_time_zone():
    zone = zoneinfo.ZoneInfo("America/New_York")
    period = Period(code="custom", first=dt.date(2026, 4, 1), last=dt.date(2026, 6, 30), zone=zone)
    assert period.start == dt.datetime(2026, 4, 1, 4, tzinfo=dt.UTC)
    assert period.end == dt.datetime(2026, 7, 1, 4, tzinfo=dt.UTC)


def sorted_stays(rows):
    """Rows in one order, times compared to float precision."""
    approx = {"median_seconds", "mean_seconds"}
    rows = [
        {k: pytest.approx(v) if k in approx else int(v) if k == "is_total" else v
         for k, v in r.items()}
        for r in rows
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (r["is_total"], r["owner_id"] or 0, r["stage_id"]))


def both_ways(user, pipeline, period, now):
    deals = metrics.report_deals(user).filter(created_at__lt=period.end)
    stages = list(pipeline.stages.order_by("position", "id"))
    args = {"stages": stages, "period": period, "now": now}
    return metrics._stays_in_sql(deals, **args), metrics._stays_in_python(deals, **args)


@on_postgresql
@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
def test_the_portable_aggregation_equals_the_sql_on_the_fixture(request, who, history):
    user = request.getfixturevalue(who)
    for first, last, now in [
        (FIRST_DAY, LAST_DAY, NOW),  # a closed period
        (FIRST_DAY, LAST_DAY, dt.datetime(2026, 5, 20, 12, tzinfo=UTC)),  # cut by now
        (dt.date(2026, 5, 1), dt.date(2026, 5, 31), NOW),  # stays crossing both bounds
    ]:
        period = Period(code="custom", first=first, last=last, zone=UTC)
        in_sql, in_python = both_ways(user, history.pipeline, period, now)
        assert in_sql, "the fixture has stays in every period"
        assert sorted_stays(in_python) == sorted_stays(in_sql)


@on_postgresql
def test_the_portable_aggregation_equals_the_sql_on_the_demo_data(admin, default_pipeline):
    from django.core.management import call_command
    from django.utils import timezone

    call_command("seed_demo", deals=400, verbosity=0)
    now = timezone.now()
    today = now.date()
    for first in (today - dt.timedelta(days=89), today.replace(month=1, day=1)):
        period = Period(code="custom", first=first, last=today, zone=UTC)
        in_sql, in_python = both_ways(admin, default_pipeline, period, now)
        assert len(in_sql) > 10
        assert sorted_stays(in_python) == sorted_stays(in_sql)


# ---- Edges, checked on both paths (PostgreSQL's SQL and the portable aggregation) ----------


def stage_rows_both_ways(user, pipeline, period, now, monkeypatch) -> list[dict]:
    """The team's stage rows from each path this database runs (SQLite: the portable one
    only), as {stage name: row}."""
    results = []
    vendors = ("postgresql", "sqlite") if connection.vendor == "postgresql" else ("sqlite",)
    for vendor in vendors:
        with monkeypatch.context() as patch:
            patch.setattr(connection, "vendor", vendor)
            report = metrics.stage_report(user=user, pipeline=pipeline, period=period, now=now)
        results.append({r.stage.name: r for r in report.team_stage_rows})
    return results


def one_stage_history(owner, steps, *, stages):
    """A deal created in the first stage of ``steps`` and moved through the rest:
    [(stage name, when), ...]; where each stay ends is linked afterwards."""
    last, entered = steps[-1]
    deal = DealFactory(
        owner=owner, stage=stages[last], created_at=steps[0][1], stage_entered_at=entered
    )
    previous = None
    for name, when in steps:
        StageChange.objects.create(
            deal=deal, kind="stage" if previous else "created", to_stage=stages[name],
            from_stage=stages.get(previous), from_status="open" if previous else "",
            to_status="open", changed_at=when,
        )  # fmt: skip
        previous = name
    return deal


def test_stays_ending_or_beginning_exactly_at_the_bounds(manager, rep, monkeypatch):
    pipeline = PipelineFactory(name="Edges", position=9)
    stages = {n: StageFactory(pipeline=pipeline, name=n, position=i) for i, n in enumerate("AB")}
    april = Period(code="custom", first=dt.date(2026, 4, 1), last=dt.date(2026, 4, 30), zone=UTC)
    start, end = april.start, april.end
    # Left A exactly when the period began: that stay does not overlap it; B entered then.
    one_stage_history(rep, [("A", start - dt.timedelta(days=12)), ("B", start)], stages=stages)
    # Left A exactly when the period ended: still there at the end; that B stay is outside.
    one_stage_history(rep, [("A", start + dt.timedelta(days=9)), ("B", end)], stages=stages)
    stage_changes_link_stays()
    now = end + dt.timedelta(days=31)
    for rows in stage_rows_both_ways(manager, pipeline, april, now, monkeypatch):
        a, b = rows["A"], rows["B"]
        assert (a.stays, a.entered, a.moved_on, a.still_there) == (1, 1, 0, 1)
        assert a.median_days == approx_days(21)
        assert (b.stays, b.entered, b.moved_on, b.still_there) == (1, 1, 0, 1)
        assert b.median_days == approx_days(30)


def test_time_across_a_daylight_saving_change_counts_real_hours(manager, rep, monkeypatch):
    pipeline = PipelineFactory(name="Autumn", position=9)
    stages = {n: StageFactory(pipeline=pipeline, name=n, position=i) for i, n in enumerate("AB")}
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # 20 to 31 October in Berlin: clocks go back an hour on the 25th.
    autumn = Period(code="custom", first=dt.date(2026, 10, 20), last=dt.date(2026, 10, 31),
                    zone=berlin)  # fmt: skip
    one_stage_history(rep, [("A", dt.datetime(2026, 10, 1, tzinfo=UTC))], stages=stages)
    stage_changes_link_stays()
    now = dt.datetime(2026, 11, 15, tzinfo=UTC)
    for rows in stage_rows_both_ways(manager, pipeline, autumn, now, monkeypatch):
        assert rows["A"].median_days == approx_days(12 + 1 / 24)
