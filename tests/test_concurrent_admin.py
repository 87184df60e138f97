"""Admins doing the same thing at the same moment: shared rules hold, and nobody gets a 500.

Each storm runs 30 real PostgreSQL connections released together (tests/concurrency.py).
"""

import pytest

from accounts import services as account_services
from accounts.errors import Invalid
from accounts.models import Team, User
from pipeline.models import Pipeline
from pipeline.services import pipeline_archive, pipeline_create
from tests.concurrency import needs_postgresql, race
from tests.factories import UserFactory

STORM = 30

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]


def refusals(results):
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Invalid)]
    assert unexpected == []
    return [r for r in results if isinstance(r, Invalid)]


def test_thirty_admins_creating_the_same_pipeline_get_one_pipeline(admin):
    results = race(
        [lambda: pipeline_create(actor=admin, name="Renewals", template="six_stage")] * STORM,
        may_fail=True,
    )
    assert len(refusals(results)) == STORM - 1
    assert Pipeline.objects.filter(name="Renewals").count() == 1
    positions = list(Pipeline.objects.values_list("position", flat=True))
    assert len(set(positions)) == len(positions)


def test_thirty_admins_creating_different_pipelines_give_each_its_own_place(admin):
    jobs = [
        (lambda n=n: pipeline_create(actor=admin, name=f"Line {n}", template="six_stage"))
        for n in range(STORM)
    ]
    race(jobs)
    positions = list(Pipeline.objects.values_list("position", flat=True))
    assert len(positions) == STORM + 1 and len(set(positions)) == len(positions)


def test_archiving_the_last_two_pipelines_at_once_keeps_one(admin):
    second = pipeline_create(actor=admin, name="Second", template="six_stage")
    first = Pipeline.objects.exclude(pk=second.pk).get()
    results = race(
        [lambda p=p: pipeline_archive(actor=admin, pipeline_id=p.pk) for p in (first, second)] * 5,
        may_fail=True,
    )
    refusals(results)
    assert Pipeline.objects.filter(is_archived=False).count() == 1


def test_two_admins_demoting_each_other_at_once_leave_an_admin(admin):
    other = UserFactory(username="ann", role=User.Role.ADMIN, team=None)
    for _round in range(5):
        results = race(
            [
                lambda: account_services.user_update(actor=admin, user_id=other.pk, role="rep"),
                lambda: account_services.user_update(actor=other, user_id=admin.pk, role="rep"),
            ],
            may_fail=True,
        )
        assert len(refusals(results)) == 1
        assert User.objects.filter(role=User.Role.ADMIN, is_active=True).count() == 1
        User.objects.filter(pk__in=[admin.pk, other.pk]).update(role=User.Role.ADMIN)
        admin.refresh_from_db()
        other.refresh_from_db()


def test_thirty_admins_creating_the_same_team_or_user_get_one_each(admin):
    results = race(
        [lambda: account_services.team_create(actor=admin, name="South")] * STORM,
        may_fail=True,
    )
    assert len(refusals(results)) == STORM - 1
    assert Team.objects.filter(name="South").count() == 1
    results = race(
        [
            lambda: account_services.user_create(
                actor=admin,
                username="zoe",
                email="zoe@example.com",
                first_name="Zoe",
                password="a-long-enough-password-1",
            )
        ]
        * STORM,
        may_fail=True,
    )
    assert len(refusals(results)) == STORM - 1
    assert User.objects.filter(username="zoe").count() == 1
