"""accounts.services called directly: refusals roll everything back, repeats change nothing."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts import services
from accounts.errors import DomainError, NotFound
from accounts.models import AuditEntry, User
from pipeline.services import deals_hand_over
from tests.factories import ActivityFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_only_admins_call_the_account_services(rep, other_rep, team):
    calls = [
        lambda: services.user_update(actor=rep, user_id=other_rep.pk, role="admin"),
        lambda: services.user_deactivate(actor=rep, user_id=other_rep.pk),
        lambda: services.team_create(actor=rep, name="Mine"),
        lambda: services.team_set_manager(actor=rep, team_id=team.pk, user_id=rep.pk),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert not AuditEntry.objects.exists()


def test_a_failing_hand_over_leaves_the_user_active(admin, rep):
    DealFactory(owner=rep)

    def refuse(**_kwargs):
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        services.user_deactivate(actor=admin, user_id=rep.pk, hand_over=refuse)
    rep.refresh_from_db()
    assert rep.is_active and not AuditEntry.objects.exists()


def test_the_hand_over_moves_open_deals_and_planned_work_only(admin, rep, other_rep):
    open_deal = DealFactory(owner=rep)
    done = ActivityFactory(deal=open_deal, assignee=rep, done_at=open_deal.created_at)
    planned = ActivityFactory(deal=open_deal, assignee=rep)
    moved = services.user_deactivate(
        actor=admin, user_id=rep.pk, successor_id=other_rep.pk, hand_over=deals_hand_over
    )
    assert moved == {"deals": 1, "activities": 1}
    done.refresh_from_db(), planned.refresh_from_db()
    assert done.assignee == rep and planned.assignee == other_rep


def test_the_last_admin_cannot_be_deactivated(admin):
    # A superuser counts as an admin without holding the admin role.
    superuser = UserFactory(role=User.Role.REP, is_superuser=True, team=None)
    with pytest.raises(DomainError, match="at least one active admin"):
        services.user_deactivate(actor=superuser, user_id=admin.pk)
    admin.refresh_from_db()
    assert admin.is_active


def test_setting_the_same_manager_twice_records_one_change(admin, rep, team):
    services.team_set_manager(actor=admin, team_id=team.pk, user_id=rep.pk)
    services.team_set_manager(actor=admin, team_id=team.pk, user_id=rep.pk)
    assert AuditEntry.objects.filter(action="team_manager_set").count() == 1


def test_unknown_ids_are_clear_errors(admin):
    with pytest.raises(NotFound):
        services.user_update(actor=admin, user_id=999999, role="rep")
    with pytest.raises(DomainError) as error:
        services.user_update(actor=admin, user_id=admin.pk, role="admin", team_id=999999)
    assert "team" in error.value.errors
    with pytest.raises(NotFound):
        services.team_rename(actor=admin, team_id=999999, name="X")


def test_a_mail_server_that_is_down_does_not_fail_the_invitation(
    admin, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*_args, **_kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(services, "send_mail", down)
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_create(
            actor=admin, username="nia", email="nia@example.com", first_name="Nia"
        )
    assert User.objects.filter(pk=user.pk).exists()
    with pytest.raises(DomainError, match="could not be sent"):
        services.user_resend_invitation(actor=admin, user_id=user.pk)
