"""Admins manage users and teams from the product's own pages; everything is audited."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEntry, Team, User
from pipeline.models import StageChange
from tests.factories import ActivityFactory, DealFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_users_page_lists_people_for_admins_only(client, admin, rep, manager):
    client.force_login(admin)
    response = client.get(reverse("settings_users"))
    assert response.status_code == 200
    assert "Rita Rep" in response.content.decode()
    for person in (rep, manager):
        client.force_login(person)
        assert client.get(reverse("settings_users")).status_code == 403


def test_inviting_a_user_creates_them_without_a_password_and_emails_a_link(
    client, admin, team, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("settings_user_new"),
            {
                "first_name": "Nina",
                "last_name": "New",
                "email": "Nina@Example.com",
                "username": "nina",
                "role": "rep",
                "team": team.pk,
            },
        )
    assert response.status_code == 302
    nina = User.objects.get(username="nina")
    assert nina.email == "nina@example.com" and nina.team == team and nina.role == "rep"
    assert not nina.has_usable_password()
    assert len(mail.outbox) == 1
    assert "http://127.0.0.1:8000/accounts/password/reset/" in mail.outbox[0].body
    assert AuditEntry.objects.filter(action="user_invited", scope=f"user:{nina.pk}").exists()


def test_an_invited_user_sets_a_password_through_the_link_and_signs_in(
    client, admin, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("settings_user_new"),
            {"first_name": "Ivo", "email": "ivo@example.com", "username": "ivo", "role": "rep"},
        )
    client.logout()
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = link.split("127.0.0.1:8000")[-1]
    page = client.get(path, follow=True)
    assert page.status_code == 200
    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a-long-fresh-pass-9", "new_password2": "a-long-fresh-pass-9"},
    )
    assert response.status_code == 302
    signed_in = client.post(
        reverse("accounts:login"), {"username": "ivo", "password": "a-long-fresh-pass-9"}
    )
    assert signed_in.status_code == 302 and "_auth_user_id" in client.session


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "rita"}, "username"),
        ({"email": "RITA@example.com"}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"role": "emperor"}, "role"),
        ({"team": "999999"}, "team"),
        ({"first_name": ""}, "first_name"),
        ({"password": "123"}, "password"),
    ],
)
def test_bad_input_when_creating_a_user_is_refused_with_a_message(
    client, admin, rep, changes, field
):
    client.force_login(admin)
    data = {"first_name": "Ben", "email": "ben@example.com", "username": "ben", "role": "rep"}
    data |= changes
    before = User.objects.count()
    response = client.post(reverse("settings_user_new"), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert User.objects.count() == before
    assert not mail.outbox


def test_changing_role_and_team_is_audited(client, admin, rep, other_team):
    client.force_login(admin)
    response = client.post(
        reverse("settings_user_edit", args=[rep.pk]), {"role": "manager", "team": other_team.pk}
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.role == "manager" and rep.team == other_team
    actions = set(
        AuditEntry.objects.filter(scope=f"user:{rep.pk}").values_list("action", flat=True)
    )
    assert actions == {"role_changed", "team_changed"}
    # The same again changes nothing and records nothing.
    client.post(
        reverse("settings_user_edit", args=[rep.pk]), {"role": "manager", "team": other_team.pk}
    )
    assert AuditEntry.objects.filter(scope=f"user:{rep.pk}").count() == 2


def test_the_last_admin_keeps_the_role(client, admin):
    other = UserFactory(role=User.Role.ADMIN, team=None)
    client.force_login(other)
    assert (
        client.post(reverse("settings_user_edit", args=[admin.pk]), {"role": "rep"}).status_code
        == 302
    )
    client.force_login(admin)  # admin is now a rep and cannot come back in
    assert client.get(reverse("settings_users")).status_code == 403
    client.force_login(other)
    response = client.post(reverse("settings_user_edit", args=[other.pk]), {"role": "rep"})
    assert response.status_code == 422
    other.refresh_from_db()
    assert other.role == User.Role.ADMIN


def test_editing_an_unknown_user_is_404_and_get_is_not_allowed(client, admin):
    client.force_login(admin)
    assert (
        client.post(reverse("settings_user_edit", args=[999999]), {"role": "rep"}).status_code
        == 404
    )
    assert client.get(reverse("settings_user_edit", args=[admin.pk])).status_code == 405


def test_deactivating_hands_open_work_over_in_one_go(client, admin, rep, other_rep):
    open_deal = DealFactory(owner=rep)
    won = DealFactory(owner=rep, status="won", closed_at=open_deal.created_at)
    planned = ActivityFactory(deal=open_deal, assignee=rep)
    client.force_login(admin)
    page = client.get(reverse("settings_user_deactivate", args=[rep.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("settings_user_deactivate", args=[rep.pk]), {"successor": other_rep.pk}
    )
    assert response.status_code == 302
    (
        rep.refresh_from_db(),
        open_deal.refresh_from_db(),
        won.refresh_from_db(),
        planned.refresh_from_db(),
    )
    assert not rep.is_active
    assert open_deal.owner == other_rep and open_deal.version == 2
    assert won.owner == rep  # closed deals keep their owner: history is about who won them
    assert planned.assignee == other_rep
    change = StageChange.objects.get(deal=open_deal, kind="owner")
    assert str(rep) in change.note and str(other_rep) in change.note
    entry = AuditEntry.objects.get(action="user_deactivated")
    assert entry.changes["deals"] == 1 and entry.changes["activities"] == 1
    client.logout()
    refused = client.post(
        reverse("accounts:login"), {"username": rep.username, "password": "correct-horse-battery"}
    )
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    client.force_login(admin)
    # Again: nothing more happens.
    client.post(reverse("settings_user_deactivate", args=[rep.pk]), {"successor": other_rep.pk})
    assert AuditEntry.objects.filter(action="user_deactivated").count() == 1


@pytest.mark.parametrize("successor", ["", "self", "inactive", "999999"])
def test_deactivating_without_a_valid_successor_changes_nothing(client, admin, rep, successor):
    deal = DealFactory(owner=rep)
    ActivityFactory(deal=deal, assignee=rep)
    inactive = UserFactory(is_active=False)
    value = {"": "", "self": rep.pk, "inactive": inactive.pk, "999999": "999999"}[successor]
    client.force_login(admin)
    response = client.post(reverse("settings_user_deactivate", args=[rep.pk]), {"successor": value})
    assert response.status_code == 422
    rep.refresh_from_db(), deal.refresh_from_db()
    assert rep.is_active and deal.owner == rep and deal.version == 1
    assert not StageChange.objects.filter(kind="owner").exists()
    assert not AuditEntry.objects.exists()


def test_nobody_deactivates_themselves_and_someone_with_nothing_open_needs_no_successor(
    client, admin, rep
):
    client.force_login(admin)
    assert client.post(reverse("settings_user_deactivate", args=[admin.pk])).status_code == 422
    admin.refresh_from_db()
    assert admin.is_active
    assert client.post(reverse("settings_user_deactivate", args=[rep.pk])).status_code == 302
    rep.refresh_from_db()
    assert not rep.is_active
    assert client.post(reverse("settings_user_reactivate", args=[rep.pk])).status_code == 302
    rep.refresh_from_db()
    assert rep.is_active
    assert AuditEntry.objects.filter(action="user_reactivated").count() == 1


def test_teams_are_created_renamed_and_given_a_manager(client, admin, rep):
    client.force_login(admin)
    assert client.post(reverse("settings_team_new"), {"name": "North"}).status_code == 302
    north = Team.objects.get(name="North")
    assert client.post(reverse("settings_team_new"), {"name": "north"}).status_code == 422
    assert (
        client.post(reverse("settings_team_rename", args=[north.pk]), {"name": " "}).status_code
        == 422
    )
    assert (
        client.post(reverse("settings_team_rename", args=[north.pk]), {"name": "Nord"}).status_code
        == 302
    )
    north.refresh_from_db()
    assert north.name == "Nord"
    response = client.post(reverse("settings_team_manager", args=[north.pk]), {"manager": rep.pk})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.role == "manager" and rep.team == north
    page = client.get(reverse("settings_teams")).content.decode()
    assert "managed by Rita Rep" in page
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["team_created", "team_renamed", "team_manager_set"]


def test_an_admin_cannot_be_made_a_team_manager(client, admin, team):
    other = UserFactory(role=User.Role.ADMIN, team=None)
    client.force_login(admin)
    assert (
        client.post(
            reverse("settings_team_manager", args=[team.pk]), {"manager": other.pk}
        ).status_code
        == 422
    )
    other.refresh_from_db()
    assert other.role == User.Role.ADMIN


def test_the_audit_log_filters_and_is_for_admins(client, admin, rep):
    client.force_login(admin)
    client.post(reverse("settings_team_new"), {"name": "North"})
    client.post(reverse("settings_user_edit", args=[rep.pk]), {"role": "manager"})
    page = client.get(reverse("settings_audit"), {"area": "team"}).content.decode()
    assert "Created team North" in page and "Rita Rep: role" not in page
    client.force_login(rep)
    assert client.get(reverse("settings_audit")).status_code == 403


def test_the_users_and_teams_pages_cost_the_same_queries_at_two_sizes(client, admin):
    def count(name) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(name)).status_code == 200
        return len(captured)

    client.force_login(admin)
    client.get(reverse("settings_users"))
    small = count("settings_users"), count("settings_teams")
    for _ in range(15):
        UserFactory(team=TeamFactory(), role=User.Role.MANAGER)
    assert (count("settings_users"), count("settings_teams")) == small


def test_each_team_form_on_the_teams_page_has_its_own_ids(client, admin, team, other_team):
    client.force_login(admin)
    html = client.get(reverse("settings_teams")).content.decode()
    assert f'id="team{team.pk}-name"' in html and f'id="team{other_team.pk}-name"' in html
    assert html.count('id="id_name"') == 1  # only the new-team form


def test_a_manager_stops_seeing_a_reps_deals_on_the_board_once_the_rep_leaves_the_team(
    client, admin, manager, rep, other_team, by_name, django_capture_on_commit_callbacks
):
    deal = DealFactory(owner=rep, stage=by_name["Qualify"], title="Renewal R-17")
    board = reverse("board", args=[deal.pipeline_id])
    client.force_login(manager)
    assert "Renewal R-17" in client.get(board).content.decode()  # now cached
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("settings_user_edit", args=[rep.pk]), {"role": "rep", "team": other_team.pk}
        )
    client.force_login(manager)
    assert "Renewal R-17" not in client.get(board).content.decode()
