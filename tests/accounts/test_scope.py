"""One scope value says whose work a user sees, and every consumer follows it."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.scope import Scope
from crm.models import Contact
from pipeline import selectors
from pipeline.forms import BoardFilterForm
from pipeline.models import Activity, Deal
from reports import selectors as metrics
from reports.forms import ReportFilterForm
from tests.factories import ActivityFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def test_each_persona_has_its_scope(rep, manager, admin, outsider):
    assert Scope.of(admin).kind == "all"
    assert Scope.of(manager) == Scope("team", manager.pk, manager.team_id)
    assert Scope.of(rep) == Scope("own", rep.pk, rep.team_id)
    assert Scope.of(AnonymousUser()).kind == "none"
    assert Scope.of(None).kind == "none"
    outsider.is_active = False
    assert Scope.of(outsider).kind == "none"


def test_a_manager_without_a_team_sees_their_own_work(manager):
    manager.team = None
    assert Scope.of(manager).kind == "own"


def test_scope_keys_differ_for_every_scope(rep, other_rep, manager, admin):
    keys = {Scope.of(user).key for user in (rep, other_rep, manager, admin, None)}
    assert len(keys) == 5


@pytest.fixture
def world(rep, manager, admin, outsider, by_name):
    """A deal, an activity and a contact of each of four people."""
    made = {}
    for person in (rep, manager, admin, outsider):
        deal = DealFactory(owner=person, stage=by_name["Qualify"])
        made[person.username] = {
            "deal": deal,
            "activity": ActivityFactory(deal=deal, assignee=person),
            "contact": ContactFactory(owner=person),
        }
    return made


def consumers(user, by_name):
    """What every consumer of the scope gives ``user``, as comparable values."""
    pipeline = by_name["Qualify"].pipeline
    period = metrics.Period("quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31), dt.UTC)
    stages = selectors.board_stages(pipeline)
    return {
        "deals": set(Deal.objects.visible_to(user).values_list("owner__username", flat=True)),
        "activities": set(
            Activity.objects.visible_to(user).values_list("assignee__username", flat=True)
        ),
        "editable contacts": set(
            Contact.objects.editable_by(user).values_list("owner__username", flat=True)
        ),
        "owner choices": {person.username for person in selectors.owner_choices(user)},
        "assignable": set(selectors.assignable_people(user).values_list("username", flat=True)),
        "report people": set(metrics.report_people(user).values_list("username", flat=True)),
        "default owner filter": selectors.default_owner_scope(user),
        "board filter scopes": [
            value for value, _ in BoardFilterForm({}, user=user).fields["owner"].choices[:4]
        ],
        "team filter on reports": "team"
        in ReportFilterForm({}, user=user, pipelines=[pipeline], today=dt.date(2026, 12, 4)).fields,
        "board cache key": selectors.board_cache_key(
            user=user,
            pipeline=pipeline,
            filters=selectors.BoardFilters(),
            stages=stages,
            stamp="s",
        ),
        "report cache key": metrics.report_cache_key(
            user=user, pipeline=pipeline, period=period, team=None, stamp="s"
        ),
    }


def test_changing_the_scope_in_one_place_changes_every_consumer(
    admin, rep, by_name, world, monkeypatch
):
    """Give the admin a rep's scope (their own work) in ``Scope.of`` alone: every consumer
    now answers the admin exactly as it answers a rep, with the admin's own name."""
    as_admin = consumers(admin, by_name)
    as_rep = consumers(rep, by_name)
    assert as_admin["deals"] == {"rita", "max", "ada", "olga"}
    assert as_rep["deals"] == {"rita"}

    real_of = Scope.of.__func__

    def admin_sees_own(cls, user):
        scope = real_of(cls, user)
        if scope.kind == "all":
            return cls("own", user.pk, user.team_id)
        return scope

    monkeypatch.setattr(Scope, "of", classmethod(admin_sees_own))
    narrowed = consumers(admin, by_name)
    assert narrowed["deals"] == narrowed["activities"] == narrowed["editable contacts"] == {"ada"}
    assert narrowed["assignable"] == narrowed["report people"] == {"ada"}
    assert narrowed["owner choices"] == set() == as_rep["owner choices"]
    assert narrowed["default owner filter"] == "me" == as_rep["default owner filter"]
    assert narrowed["board filter scopes"] == as_rep["board filter scopes"]
    assert narrowed["team filter on reports"] is as_rep["team filter on reports"] is False
    # Every key in the consumers' output differs from what the admin had: nothing kept the
    # old rule anywhere.
    assert all(narrowed[name] != as_admin[name] for name in as_admin), [
        name for name in as_admin if narrowed[name] == as_admin[name]
    ]
