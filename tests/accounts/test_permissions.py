"""Who may do what, as one matrix: role x whose object x action.

Reps see and change their own deals and activities, managers their team's, admins all;
everyone reads the shared address book, its owners, their managers and admins edit it;
only admins open the settings. Objects out of reach answer 404, actions out of rights 403.
"""

import pytest
from django.urls import reverse

from pipeline.models import Deal
from tests.factories import ActivityFactory, ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

ROLES = ["rep", "manager", "admin"]
OWNERS = ["own", "team", "other"]

# (role, whose) -> may see and change the deal or activity
DEAL_REACH = {
    ("rep", "own"): True,
    ("rep", "team"): False,
    ("rep", "other"): False,
    ("manager", "own"): True,
    ("manager", "team"): True,
    ("manager", "other"): False,
    ("admin", "own"): True,
    ("admin", "team"): True,
    ("admin", "other"): True,
}


@pytest.fixture
def people(request, rep, manager, admin, other_rep, outsider):
    return {"rep": rep, "manager": manager, "admin": admin}


def owner_for(role, whose, people, other_rep, outsider):
    return {"own": people[role], "team": other_rep, "other": outsider}[whose]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", OWNERS)
def test_seeing_a_deal(client, people, other_rep, outsider, stages, role, whose):
    deal = DealFactory(stage=stages[0], owner=owner_for(role, whose, people, other_rep, outsider))
    client.force_login(people[role])
    response = client.get(reverse("deal_detail", args=[deal.pk]))
    assert response.status_code == (200 if DEAL_REACH[role, whose] else 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", OWNERS)
def test_moving_a_deal(client, people, other_rep, outsider, stages, role, whose):
    deal = DealFactory(stage=stages[0], owner=owner_for(role, whose, people, other_rep, outsider))
    client.force_login(people[role])
    response = client.post(
        reverse("deal_move", args=[deal.pk]), {"version": deal.version, "stage": stages[1].pk}
    )
    deal.refresh_from_db()
    if DEAL_REACH[role, whose]:
        assert response.status_code in (200, 302)
        assert deal.stage == stages[1]
    else:
        assert response.status_code == 404
        assert deal.stage == stages[0] and deal.version == 1


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", OWNERS)
def test_editing_a_deal(client, people, other_rep, outsider, stages, role, whose):
    owner = owner_for(role, whose, people, other_rep, outsider)
    deal = DealFactory(stage=stages[0], owner=owner, title="Before")
    client.force_login(people[role])
    response = client.post(
        reverse("deal_edit", args=[deal.pk]),
        {
            "title": "After",
            "value": "10",
            "currency": "EUR",
            "owner": owner.pk,
            "version": deal.version,
        },
    )
    deal.refresh_from_db()
    if DEAL_REACH[role, whose]:
        assert response.status_code == 302, response.content[:500]
        assert deal.title == "After"
    else:
        assert response.status_code == 404
        assert deal.title == "Before"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", OWNERS)
def test_completing_an_activity(client, people, other_rep, outsider, stages, role, whose):
    owner = owner_for(role, whose, people, other_rep, outsider)
    activity = ActivityFactory(deal=DealFactory(stage=stages[0], owner=owner), assignee=owner)
    client.force_login(people[role])
    response = client.post(reverse("activity_complete", args=[activity.pk]))
    activity.refresh_from_db()
    if DEAL_REACH[role, whose]:
        assert response.status_code in (200, 302)
        assert activity.done_at is not None
    else:
        assert response.status_code == 404
        assert activity.done_at is None


@pytest.mark.parametrize("kind", ["contact", "organization"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", OWNERS)
def test_the_address_book_is_shared_and_edited_by_owners_managers_and_admins(
    client, people, other_rep, outsider, role, whose, kind
):
    owner = owner_for(role, whose, people, other_rep, outsider)
    if kind == "contact":
        row = ContactFactory(owner=owner, first_name="Before")
        data = {"first_name": "After", "last_name": "", "email": ""}
    else:
        row = OrganizationFactory(owner=owner, name="Before")
        data = {"name": "After"}
    client.force_login(people[role])
    detail = client.get(reverse(f"{kind}_detail", args=[row.pk]))
    assert detail.status_code == 200  # everyone reads the address book
    edit_url = reverse(f"{kind}_edit", args=[row.pk])
    may_edit = DEAL_REACH[role, whose]
    assert (edit_url in detail.content.decode()) == may_edit  # no edit button without the right
    assert client.get(edit_url).status_code == (200 if may_edit else 403)
    response = client.post(edit_url, data)
    row.refresh_from_db()
    name = row.first_name if kind == "contact" else row.name
    if may_edit:
        assert response.status_code == 302 and name == "After"
    else:
        assert response.status_code == 403 and name == "Before"


def test_a_company_record_without_owner_is_edited_by_admins_only(client, rep, manager, admin):
    contact = ContactFactory(owner=None)
    for person, status in ((rep, 403), (manager, 403), (admin, 200)):
        client.force_login(person)
        assert client.get(reverse("contact_edit", args=[contact.pk])).status_code == status


@pytest.mark.parametrize(
    "name",
    [
        "settings_pipelines",
        "settings_users",
        "settings_teams",
        "settings_audit",
        "settings_user_new",
    ],
)
@pytest.mark.parametrize(("role", "status"), [("rep", 403), ("manager", 403), ("admin", 200)])
def test_only_admins_open_the_settings(client, people, default_pipeline, name, role, status):
    client.force_login(people[role])
    assert client.get(reverse(name)).status_code == status


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_only_admins_change_users_and_teams(client, people, outsider, other_team, role):
    client.force_login(people[role])
    posts = [
        (reverse("settings_user_edit", args=[outsider.pk]), {"role": "admin"}),
        (reverse("settings_user_deactivate", args=[outsider.pk]), {}),
        (reverse("settings_team_rename", args=[other_team.pk]), {"name": "Mine"}),
        (reverse("settings_team_manager", args=[other_team.pk]), {"manager": people[role].pk}),
        (reverse("settings_team_new"), {"name": "New"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    outsider.refresh_from_db(), other_team.refresh_from_db()
    assert outsider.role == "rep" and outsider.is_active and other_team.name == "West"
    assert people[role].role == ("rep" if role == "rep" else "manager")


def test_a_deactivated_user_sees_nothing(client, rep, stages):
    deal = DealFactory(stage=stages[0], owner=rep)
    rep.is_active = False
    rep.save()
    assert Deal.objects.visible_to(rep).count() == 0
    client.force_login(rep)  # a session from before the deactivation
    response = client.get(reverse("deal_detail", args=[deal.pk]))
    assert response.status_code == 302  # Django drops the session of an inactive user
