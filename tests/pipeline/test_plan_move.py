"""plan_move: where a move takes a deal, decided from its status and stages alone."""

import pytest

from pipeline.models import Pipeline, Stage
from pipeline.services import Invalid, plan_move

SALES, OTHER = Pipeline(pk=1, name="Sales"), Pipeline(pk=2, name="Other")


def stage(pk, *, pipeline=SALES, is_won=False, is_archived=False) -> Stage:
    return Stage(pk=pk, name=f"S{pk}", pipeline=pipeline, is_won=is_won, is_archived=is_archived)


QUALIFY, PROPOSAL, FOLLOW_UP = stage(10), stage(11), stage(19, is_won=True)
ELSEWHERE = stage(20, pipeline=OTHER)


def plan(status="open", from_stage=QUALIFY, **kwargs):
    result = plan_move(status=status, from_stage=from_stage, pipeline_id=SALES.pk, **kwargs)
    return None if result is None else (result.to_stage, result.to_status, result.kind)


def test_a_move_to_another_stage():
    assert plan(target=PROPOSAL) == (PROPOSAL, "open", "stage")


def test_a_move_within_the_same_stage_is_a_reorder():
    assert plan(target=QUALIFY) == (QUALIFY, "open", "reorder")


def test_dropping_into_the_post_sale_stage_wins_the_deal():
    assert plan(target=FOLLOW_UP) == (FOLLOW_UP, "won", "won")


def test_winning_goes_to_the_post_sale_stage_or_stays_without_one():
    assert plan(outcome="won", won_stage=FOLLOW_UP) == (FOLLOW_UP, "won", "won")
    assert plan(outcome="won") == (QUALIFY, "won", "won")


def test_losing_keeps_the_stage_it_was_lost_from():
    assert plan(outcome="lost") == (QUALIFY, "lost", "lost")


def test_closing_again_changes_nothing():
    assert plan(status="won", outcome="won", won_stage=FOLLOW_UP) is None
    assert plan(status="lost", outcome="lost") is None


def test_a_won_deal_cannot_be_lost_without_reopening():
    with pytest.raises(Invalid, match="reopen it first"):
        plan(status="won", from_stage=FOLLOW_UP, outcome="lost")


def test_an_open_stage_reopens_a_closed_deal():
    assert plan(status="lost", target=PROPOSAL) == (PROPOSAL, "open", "reopened")
    assert plan(status="won", from_stage=FOLLOW_UP, target=QUALIFY) == (
        QUALIFY,
        "open",
        "reopened",
    )


def test_stage_removal_keeps_the_status():
    assert plan(status="lost", target=PROPOSAL, keep_status=True) == (PROPOSAL, "lost", "stage")


def test_another_pipeline_only_when_allowed():
    with pytest.raises(Invalid, match="another pipeline"):
        plan(target=ELSEWHERE)
    assert plan(target=ELSEWHERE, allow_other_pipeline=True) == (ELSEWHERE, "open", "pipeline")


def test_a_missing_or_removed_stage_is_refused():
    with pytest.raises(Invalid, match="does not exist"):
        plan(target=None)
    with pytest.raises(Invalid, match="has been removed"):
        plan(target=stage(12, is_archived=True))
    OTHER.is_archived = True
    try:
        with pytest.raises(Invalid, match="is archived"):
            plan(target=ELSEWHERE, allow_other_pipeline=True)
    finally:
        OTHER.is_archived = False
