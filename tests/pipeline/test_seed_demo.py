"""The demo-data command: realistic, consistent, deterministic, sized on request."""

from __future__ import annotations

from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Team, User
from crm.models import Contact, Organization
from pipeline.models import Activity, Deal, Stage, StageChange
from pipeline.selectors import rotting_q
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

STAGE_MOVES = {"created", "stage", "won"}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", verbosity=options.pop("verbosity", 0), stdout=out, **options)
    return out.getvalue()


def snapshot() -> tuple:
    """Everything a run decides except absolute times; durations are kept, as offsets."""
    deals = sorted(
        (
            deal.title,
            deal.value,
            deal.currency,
            deal.stage.name,
            deal.owner.username,
            deal.status,
            deal.lost_reason,
            deal.position,
            deal.contact.email if deal.contact else "",
            (deal.stage_entered_at - deal.created_at).total_seconds(),
        )
        for deal in Deal.objects.select_related("stage", "owner", "contact")
    )
    history = sorted(
        StageChange.objects.values_list(
            "deal__title", "kind", "from_stage__name", "to_stage__name", "to_status", "note"
        )
    )
    activities = sorted(Activity.objects.values_list("deal__title", "kind", "subject"))
    people = sorted(User.objects.values_list("username", "first_name", "last_name", "team__name"))
    return deals, history, activities, people


def test_the_default_size_gives_the_documented_team_and_data(stages):
    output = seed(verbosity=1)

    users = {user.username: user for user in User.objects.select_related("team")}
    assert sorted(users) == sorted(
        ["admin", "manager1", "manager2", *[f"rep{i}" for i in range(1, 9)]]
    )
    admin = users["admin"]
    assert admin.role == "admin" and admin.is_superuser and admin.team is None
    assert admin.check_password("demo-pass-2026")
    teams = defaultdict(Counter)
    for user in users.values():
        if user.team:
            teams[user.team.name][user.role] += 1
    assert teams == {
        "Team North": Counter(manager=1, rep=4),
        "Team South": Counter(manager=1, rep=4),
    }

    assert Deal.objects.count() == 400
    assert 250 <= Organization.objects.count() <= 350
    assert 250 <= Contact.objects.count() <= 400
    assert not Contact.objects.filter(organization=None).exists()
    open_deals = Deal.objects.filter(status="open")
    open_stages = {stage.name for stage in stages if not stage.is_won}
    assert set(open_deals.values_list("stage__name", flat=True)) == open_stages
    assert Deal.objects.filter(status="won").count() >= 30
    assert Deal.objects.filter(status="lost").count() >= 30
    assert open_deals.filter(rotting_q(stages, timezone.now())).exists()
    currencies = Counter(Deal.objects.values_list("currency", flat=True))
    assert currencies.most_common(1)[0][0] == "EUR" and set(currencies) > {"EUR"}
    assert not Deal.objects.filter(organization=None).exists()
    assert Deal.objects.exclude(contact=None).count() > 300
    for title, org_name in Deal.objects.values_list("title", "organization__name")[:50]:
        assert title.startswith(f"{org_name} – ")

    activities = Activity.objects.all()
    assert open_deals.count() <= activities.count() <= 2.5 * open_deals.count()
    now = timezone.now()
    assert activities.filter(done_at__isnull=False).exists()
    assert activities.filter(done_at=None, due_at__lt=now).exists()  # overdue
    assert activities.filter(due_at__gt=now).count() > activities.count() / 2

    for text in ["rep1", "Sales manager", "Team North", "demo-pass-2026", "/accounts/login/"]:
        assert text in output
    assert "400  deals" in output and "history rows" in output


def test_history_agrees_with_every_deal(stages):
    seed(deals=150, reps=3)
    won_stage = next(stage for stage in stages if stage.is_won)
    history = defaultdict(list)
    for change in StageChange.objects.order_by("changed_at", "id"):
        history[change.deal_id].append(change)
    six_months_ago = timezone.now() - timezone.timedelta(days=184)

    for deal in Deal.objects.select_related("stage"):
        changes = history[deal.pk]
        first, last = changes[0], changes[-1]
        assert (first.kind, first.from_stage, first.from_status) == ("created", None, "")
        assert first.to_stage == stages[0] and first.to_status == "open"
        assert deal.created_at == first.changed_at >= six_months_ago
        moves = [change for change in changes if change.kind in STAGE_MOVES]
        assert moves[-1].to_stage_id == deal.stage_id
        assert deal.stage_entered_at == moves[-1].changed_at
        for before, after in zip(changes, changes[1:], strict=False):
            assert before.to_stage_id == after.from_stage_id
            assert before.changed_at < after.changed_at
        assert last.to_status == deal.status
        assert deal.version == len(changes)
        if deal.status == "open":
            assert deal.closed_at is None
            assert all(change.kind in {"created", "stage"} for change in changes)
        else:
            assert deal.closed_at == last.changed_at and last.kind == deal.status
        if deal.status == "won":
            assert deal.stage == won_stage
        if deal.status == "lost":
            assert deal.lost_reason and last.note == deal.lost_reason
            assert last.from_stage_id == last.to_stage_id == deal.stage_id
    kinds = Counter(StageChange.objects.values_list("kind", flat=True))
    assert kinds["created"] == Deal.objects.count()


def test_board_positions_are_sparse_and_unique_within_each_column(default_pipeline):
    seed(deals=150, reps=3)
    columns = defaultdict(list)
    rows = Deal.objects.values_list("stage", "stage__is_won", "status", "position")
    for stage_id, is_won, status, position in rows:
        on_board = status == ("won" if is_won else "open")
        assert (position is not None) == on_board, (stage_id, status, position)
        if on_board:
            columns[stage_id].append(position)
    assert len(columns) >= 5
    for positions in columns.values():
        assert len(set(positions)) == len(positions)
        assert all(position > 0 and position % 1024 == 0 for position in positions)


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
    reps = User.objects.filter(role="rep")
    assert reps.count() == 3
    assert set(Deal.objects.values_list("owner__role", flat=True)) == {"rep"}
    # Reps split over two teams, one manager each.
    assert reps.values("team").distinct().count() == 2
    assert User.objects.filter(role="manager").count() == 2


def test_many_reps_make_more_teams_of_about_ten(default_pipeline):
    seed(deals=30, reps=25)
    assert Team.objects.count() == 3
    for team in Team.objects.all():
        assert team.members.filter(role="manager").count() == 1
        assert 8 <= team.members.filter(role="rep").count() <= 9


def test_a_second_run_without_flush_is_refused(default_pipeline):
    seed(deals=10, reps=2)
    with pytest.raises(CommandError, match="already loaded.*--flush"):
        seed(deals=10, reps=2)
    assert Deal.objects.count() == 10
    assert User.objects.count() == 5


def test_flush_replaces_the_demo_but_keeps_pipelines_and_real_accounts(rep, stages):
    DealFactory(owner=rep, stage=stages[0])
    seed(deals=20, reps=2)
    admin_pk = User.objects.get(username="admin").pk

    seed(deals=30, reps=2, flush=True)

    assert Deal.objects.count() == 30
    assert not Deal.objects.filter(owner=rep).exists()
    assert User.objects.filter(pk=rep.pk).exists()
    # The demo superuser is refreshed in place rather than deleted.
    assert User.objects.get(username="admin").pk == admin_pk
    assert list(Stage.objects.filter(pipeline=stages[0].pipeline).order_by("position")) == stages


def test_accounts_the_demo_did_not_create_are_never_taken_over(db):
    User.objects.create_user("rep1", email="rep1@example.com", password="x")
    for flush in (False, True):
        with pytest.raises(CommandError, match="rep1"):
            seed(deals=10, reps=2, flush=flush)
    assert User.objects.count() == 1
    assert not Deal.objects.exists()


def test_if_empty_skips_a_database_that_has_users(rep):
    seed(if_empty=True)
    assert Deal.objects.count() == 0
