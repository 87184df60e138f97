"""The demo-data command: realistic, consistent, deterministic, sized on request."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from accounts.models import User
from pipeline.models import Activity, Deal, StageChange

pytestmark = pytest.mark.django_db


def seed(**options):
    call_command("seed_demo", verbosity=0, **options)


def snapshot() -> tuple:
    deals = sorted(
        Deal.objects.values_list(
            "title", "value", "currency", "stage__name", "owner__username", "status", "lost_reason"
        )
    )
    return deals, StageChange.objects.count(), Activity.objects.count()


def test_the_default_size_gives_a_small_realistic_team(default_pipeline):
    seed()
    roles = dict(User.objects.values_list("role").annotate(n=Count("id")))
    assert roles == {"admin": 1, "manager": 2, "rep": 8}
    assert User.objects.filter(role="rep").values("team").distinct().count() == 2
    assert Deal.objects.count() == 400
    assert set(Deal.objects.values_list("status", flat=True)) == {"open", "won", "lost"}
    open_stages = set(Deal.objects.filter(status="open").values_list("stage__name", flat=True))
    assert open_stages == {"Prospect", "Qualify", "Proposal", "Negotiation", "Closing"}
    assert StageChange.objects.count() > 2 * Deal.objects.count()
    assert Activity.objects.exists()


def test_history_agrees_with_every_deal(default_pipeline):
    seed(deals=120, reps=3)
    for deal in Deal.objects.select_related("stage"):
        changes = list(deal.stage_changes.order_by("changed_at", "id"))
        assert changes[0].kind == "created"
        assert changes[0].changed_at == deal.created_at
        moves = [c for c in changes if c.kind in {"created", "stage", "won"}]
        assert moves[-1].to_stage_id == deal.stage_id
        assert changes[-1].to_status == deal.status
        if deal.status == "won":
            assert deal.stage.is_won and deal.closed_at == changes[-1].changed_at
        if deal.status == "lost":
            assert deal.lost_reason and changes[-1].kind == "lost"
            assert changes[-1].note == deal.lost_reason
        if deal.status == "open":
            assert deal.stage_entered_at == moves[-1].changed_at


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(default_pipeline):
    seed(deals=80, reps=3, seed=11)
    first = snapshot()
    seed(deals=80, reps=3, seed=11, flush=True)
    assert snapshot() == first
    seed(deals=80, reps=3, seed=12, flush=True)
    assert snapshot() != first


def test_the_size_options_are_respected(default_pipeline):
    seed(deals=150, reps=3)
    assert Deal.objects.count() == 150
    assert User.objects.filter(role="rep").count() == 3


def test_a_second_run_without_flush_is_refused(default_pipeline):
    seed(deals=10, reps=2)
    with pytest.raises(CommandError, match="--flush"):
        seed(deals=10, reps=2)
    assert Deal.objects.count() == 10


def test_if_empty_skips_a_database_that_has_users(rep):
    seed(if_empty=True)
    assert Deal.objects.count() == 0
