"""Reads that span relations: what pages and reports show, computed in the database."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from pipeline.models import Deal, Pipeline, Stage


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_archived=False).order_by("position", "id").first()


@dataclass
class StageSummary:
    stage: Stage
    count: int = 0
    # Money is never added across currencies: one total per currency code.
    totals: dict[str, Decimal] = field(default_factory=dict)


def stage_summaries(*, pipeline: Pipeline, user) -> list[StageSummary]:
    """Each active stage of a pipeline with the count and value of the open deals user sees."""
    stages = list(pipeline.stages.active().order_by("position", "id"))
    rows = (
        Deal.objects.visible_to(user)
        .open()
        .filter(pipeline=pipeline)
        .values("stage_id", "currency")
        .annotate(count=Count("id"), total=Sum("value"))
        .order_by()
    )
    counts: dict[int, int] = defaultdict(int)
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        counts[row["stage_id"]] += row["count"]
        totals[row["stage_id"]][row["currency"]] = row["total"]
    return [
        StageSummary(
            stage=stage, count=counts[stage.pk], totals=dict(sorted(totals[stage.pk].items()))
        )
        for stage in stages
    ]
