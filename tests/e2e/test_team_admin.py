"""An admin runs the team from the browser: invite, team and manager, deactivate with hand-over."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import AuditEntry, Team, User
from pipeline.models import Deal, StageChange
from tests.factories import DealFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_invites_builds_a_team_and_hands_over_a_leavers_work(
    page, live_server, login, admin, rep, other_rep, by_name
):
    deal = DealFactory(owner=rep, stage=by_name["Qualify"], title="Acme renewal")
    login(page, admin)

    # Invite someone.
    page.goto(f"{live_server.url}/settings/users/")
    page.get_by_role("link", name="Invite a user").click()
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Username").fill("nina")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator(".messages")).to_contain_text("Nina invited")
    assert User.objects.get(username="nina").email == "nina@example.com"
    assert "/accounts/password/reset/" in mail.outbox[-1].body

    # A new team with Nina as its manager.
    page.get_by_role("link", name="Teams").click()
    page.get_by_role("textbox", name="Name").last.fill("North")
    page.get_by_role("button", name="Create team").click()
    north = Team.objects.get(name="North")
    page.locator(f"#team{north.pk}-manager").select_option(label="Nina")
    page.get_by_role("form", name="Set the manager of North").get_by_role(
        "button", name="Make manager"
    ).click()
    expect(page.locator(".messages")).to_contain_text("Nina now manages North")
    nina = User.objects.get(username="nina")
    assert nina.role == "manager" and nina.team == north

    # Rita leaves: Oscar takes over her open deal.
    page.goto(f"{live_server.url}/settings/users/{rep.pk}/")
    page.get_by_role("link", name="Deactivate…").click()
    page.get_by_label("Who takes over").select_option(label=str(other_rep))
    page.get_by_role("button", name=f"Deactivate {rep}").click()
    expect(page.locator(".messages")).to_contain_text("is deactivated")
    assert Deal.objects.get(pk=deal.pk).owner == other_rep
    assert StageChange.objects.filter(deal=deal, kind="owner").exists()

    # All of it is in the audit log.
    page.get_by_role("link", name="Audit log").click()
    for text in ("Invited Nina", "Created team North", "Nina now manages North", "Deactivated"):
        expect(page.locator("main")).to_contain_text(text)
    assert AuditEntry.objects.count() == 4
