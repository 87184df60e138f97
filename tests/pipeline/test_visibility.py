"""The one visibility rule: reps see their own deals, managers their team's, admins all."""

import pytest
from django.contrib.auth.models import AnonymousUser

from pipeline.models import Activity, Deal
from tests.factories import ActivityFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(rep, other_rep, outsider):
    return {
        "rep": DealFactory(owner=rep),
        "other_rep": DealFactory(owner=other_rep),
        "outsider": DealFactory(owner=outsider),
    }


def visible(user):
    return set(Deal.objects.visible_to(user).values_list("title", flat=True))


def titles(deals, *keys):
    return {deals[key].title for key in keys}


def test_a_rep_sees_only_their_own_deals(rep, deals):
    assert visible(rep) == titles(deals, "rep")


def test_a_manager_sees_every_deal_of_their_team(manager, deals):
    assert visible(manager) == titles(deals, "rep", "other_rep")


def test_an_admin_sees_every_deal(admin, deals):
    assert visible(admin) == titles(deals, "rep", "other_rep", "outsider")


def test_a_manager_without_a_team_sees_only_their_own_deals(deals):
    manager = UserFactory(role="manager", team=None)
    own = DealFactory(owner=manager)
    assert visible(manager) == {own.title}


def test_anonymous_and_deactivated_users_see_nothing(rep, deals):
    assert visible(AnonymousUser()) == set()
    rep.is_active = False
    assert visible(rep) == set()


def test_a_superuser_sees_every_deal_whatever_their_role(deals):
    root = UserFactory(role="rep", is_superuser=True)
    assert visible(root) == titles(deals, "rep", "other_rep", "outsider")


def test_activities_follow_the_deal_rule(rep, other_rep, outsider, manager):
    mine = ActivityFactory(deal=DealFactory(owner=rep))
    assigned_to_me = ActivityFactory(deal=DealFactory(owner=other_rep), assignee=rep)
    teammates = ActivityFactory(deal=DealFactory(owner=other_rep))
    foreign = ActivityFactory(deal=DealFactory(owner=outsider))

    def seen(user):
        return set(Activity.objects.visible_to(user).values_list("pk", flat=True))

    assert seen(rep) == {mine.pk, assigned_to_me.pk}
    assert seen(manager) == {mine.pk, assigned_to_me.pk, teammates.pk}
    assert foreign.pk not in seen(manager)
