"""Integrity rules that live in the database, and the default pipeline."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from pipeline.models import Deal, Stage, StageChange
from tests.factories import (
    ActivityFactory,
    DealFactory,
    StageChangeFactory,
    StageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def assert_rejected(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_the_default_pipeline_has_six_stages_in_sales_order(stages):
    assert [s.name for s in stages] == [
        "Prospect",
        "Qualify",
        "Proposal",
        "Negotiation",
        "Closing",
        "Follow-up",
    ]


def test_only_follow_up_is_the_post_sale_won_stage(stages):
    assert [s.name for s in stages if s.is_won] == ["Follow-up"]


def test_default_stages_have_texts_rising_probabilities_and_rotting_days(stages):
    open_stages = [s for s in stages if not s.is_won]
    assert all(s.description and s.goal for s in stages)
    probabilities = [s.probability for s in stages]
    assert probabilities == sorted(probabilities)
    assert stages[-1].probability == 100
    assert all(s.rotting_days for s in open_stages)


def test_a_negative_deal_value_is_rejected():
    assert_rejected(lambda: DealFactory(value=Decimal("-1")))


@pytest.mark.parametrize("currency", ["eur", "EU", "E1R", ""])
def test_a_currency_that_is_not_an_iso_code_is_rejected(currency):
    assert_rejected(lambda: DealFactory(currency=currency))


@pytest.mark.parametrize("probability", [101, 250])
def test_a_probability_above_100_is_rejected(probability):
    assert_rejected(lambda: StageFactory(probability=probability))


def test_stage_names_are_unique_within_a_pipeline_ignoring_case(default_pipeline):
    assert_rejected(lambda: StageFactory(pipeline=default_pipeline, name="proposal"))


def test_an_archived_stage_frees_its_name(default_pipeline):
    Stage.objects.filter(pipeline=default_pipeline, name="Proposal").update(is_archived=True)
    assert StageFactory(pipeline=default_pipeline, name="Proposal").pk


def test_a_pipeline_has_at_most_one_won_stage(default_pipeline):
    assert_rejected(lambda: StageFactory(pipeline=default_pipeline, is_won=True))


def test_a_lost_deal_needs_a_reason_and_a_close_time():
    assert_rejected(lambda: DealFactory(status=Deal.Status.LOST, closed_at=timezone.now()))
    assert_rejected(lambda: DealFactory(status=Deal.Status.LOST, lost_reason="Price"))


def test_an_open_deal_cannot_carry_a_close_time():
    assert_rejected(lambda: DealFactory(closed_at=timezone.now()))


def test_an_activity_belongs_to_a_deal_or_a_contact():
    assert_rejected(lambda: ActivityFactory(deal=None, contact=None, assignee=UserFactory()))


def test_deleting_a_user_who_owns_deals_is_refused():
    deal = DealFactory()
    with pytest.raises(ProtectedError):
        deal.owner.delete()
    assert Deal.objects.filter(pk=deal.pk).exists()


def test_deleting_a_stage_that_holds_deals_or_history_is_refused():
    deal = DealFactory()
    with pytest.raises(ProtectedError):
        deal.stage.delete()
    deal_with_history = StageChangeFactory().deal
    Deal.objects.filter(pk=deal_with_history.pk).update(stage=StageFactory())
    with pytest.raises(ProtectedError):
        StageChange.objects.get(deal=deal_with_history).to_stage.delete()


def test_deleting_a_user_named_in_history_is_refused():
    change = StageChangeFactory(changed_by=UserFactory())
    with pytest.raises(ProtectedError):
        change.changed_by.delete()
