"""A hand-computed stage history for the metrics tests (docs/metrics.md explains the rules).

The period is Q2 2026 in UTC: day 0 is 1 April, day 91 is 1 July (the end, exclusive).
"Now" is day 105 (15 July). Stages of the pipeline "Sales": New lead (renamed from Lead,
position 1), Demo (2, removed later), Offer (3, 50 %, rots after 14 days), Won (4, post-sale).

    D1 rita   1000  Lead -10 → Offer 5 (skips Demo) → won 20
    D2 rita   2000  Lead 10 → Demo 12 → Lead 14 (back) → Demo 16 → lost 30 "Price"
    D3 rita   3000  Lead 20 → Offer 25 → lost 40 "Timing" → reopened in Offer 50 → won 95
    D4 oscar  4000  Lead -30 → Demo -20 → Offer 60 (Demo removed) ; open, closes 2026-08-10
    D5 oscar  5000  Lead 40 → moved to pipeline Renewals 45 ; open there
    D6 oscar  6000  Lead -50 → lost -40 "Price" (before the period)
    D7 olga   7000  Lead 1 → Offer 3 ; open (another team)
    D8 rita   8000  Lead 2 → reordered 3, owner change 4 (ignored) → Offer 6 ; open
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from pipeline.history import stage_changes_link_stays
from pipeline.models import Deal, Pipeline, Stage, StageChange
from tests.factories import DealFactory, PipelineFactory, StageFactory

START = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
NOW = START + dt.timedelta(days=105)
FIRST_DAY, LAST_DAY = dt.date(2026, 4, 1), dt.date(2026, 6, 30)


def at(day: float) -> dt.datetime:
    return START + dt.timedelta(days=day)


@dataclass
class History:
    pipeline: Pipeline
    lead: Stage
    demo: Stage
    offer: Stage
    won: Stage
    intake: Stage
    deals: dict[str, Deal]


def _deal(owner, stage, value, created, *, status="open", closed=None, entered=None, **extra):
    return DealFactory(
        title=extra.pop("title"),
        owner=owner,
        stage=stage,
        pipeline=stage.pipeline,
        value=Decimal(value),
        created_at=at(created),
        stage_entered_at=at(entered if entered is not None else created),
        status=status,
        closed_at=at(closed) if closed is not None else None,
        **extra,
    )


def _row(deal, kind, to, day, *, frm=None, from_status="open", to_status="open", note=""):
    StageChange.objects.create(
        deal=deal,
        kind=kind,
        from_stage=frm,
        to_stage=to,
        from_status="" if kind == "created" else from_status,
        to_status=to_status,
        changed_by=deal.owner,
        changed_at=at(day),
        note=note,
    )


def build(rep, other_rep, outsider) -> History:
    sales = PipelineFactory(name="Sales", position=0)
    lead = StageFactory(pipeline=sales, name="Lead", position=1, probability=10, rotting_days=14)
    demo = StageFactory(pipeline=sales, name="Demo", position=2, probability=30, rotting_days=14)
    offer = StageFactory(pipeline=sales, name="Offer", position=3, probability=50, rotting_days=14)
    won = StageFactory(
        pipeline=sales, name="Won", position=4, probability=100, rotting_days=None, is_won=True
    )
    renewals = PipelineFactory(name="Renewals", position=1)
    intake = StageFactory(pipeline=renewals, name="Intake", position=1)
    C, S, W, L, R, P = "created", "stage", "won", "lost", "reopened", "pipeline"

    d1 = _deal(rep, won, 1000, -10, status="won", closed=20, entered=20, title="D1")
    _row(d1, C, lead, -10)
    _row(d1, S, offer, 5, frm=lead)
    _row(d1, W, won, 20, frm=offer, to_status="won")

    d2 = _deal(
        rep, demo, 2000, 10, status="lost", closed=30, entered=16, title="D2", lost_reason="Price"
    )
    _row(d2, C, lead, 10)
    _row(d2, S, demo, 12, frm=lead)
    _row(d2, S, lead, 14, frm=demo)
    _row(d2, S, demo, 16, frm=lead)
    _row(d2, L, demo, 30, frm=demo, to_status="lost", note="Price")

    d3 = _deal(rep, won, 3000, 20, status="won", closed=95, entered=95, title="D3")
    _row(d3, C, lead, 20)
    _row(d3, S, offer, 25, frm=lead)
    _row(d3, L, offer, 40, frm=offer, to_status="lost", note="Timing")
    _row(d3, R, offer, 50, frm=offer, from_status="lost")
    _row(d3, W, won, 95, frm=offer, to_status="won")

    d4 = _deal(
        other_rep, offer, 4000, -30, entered=60, title="D4",
        expected_close_date=dt.date(2026, 8, 10),
    )  # fmt: skip
    _row(d4, C, lead, -30)
    _row(d4, S, demo, -20, frm=lead)
    _row(d4, S, offer, 60, frm=demo, note="Stage “Demo” removed")

    d5 = _deal(other_rep, intake, 5000, 40, entered=45, title="D5")
    _row(d5, C, lead, 40)
    _row(d5, P, intake, 45, frm=lead)

    d6 = _deal(
        other_rep, lead, 6000, -50, status="lost", closed=-40, title="D6", lost_reason="Price"
    )
    _row(d6, C, lead, -50)
    _row(d6, L, lead, -40, frm=lead, to_status="lost", note="Price")

    d7 = _deal(outsider, offer, 7000, 1, entered=3, title="D7")
    _row(d7, C, lead, 1)
    _row(d7, S, offer, 3, frm=lead)

    d8 = _deal(rep, offer, 8000, 2, entered=6, title="D8")
    _row(d8, C, lead, 2)
    _row(d8, "reorder", lead, 3, frm=lead)
    _row(d8, "owner", lead, 4, frm=lead)
    _row(d8, S, offer, 6, frm=lead)

    demo.is_archived = True
    demo.save(update_fields=["is_archived"])
    lead.name = "New lead"
    lead.save(update_fields=["name"])
    deals = {d.title: d for d in (d1, d2, d3, d4, d5, d6, d7, d8)}
    # Rows written by hand, like the demo seeder's: store where each stay ends the same way.
    stage_changes_link_stays([d.pk for d in deals.values()])
    return History(sales, lead, demo, offer, won, intake, deals)
