"""axe-core scans of the user, team, audit, profile and address book pages."""

import json

import pytest
from django.urls import reverse

from tests.e2e.test_accessibility import serious_violations
from tests.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # axe is injected as an inline script, which our Content-Security-Policy rightly blocks.
    return {**browser_context_args, "bypass_csp": True}


@pytest.mark.parametrize("width", [1440, 390])
def test_account_and_address_book_pages_have_no_serious_accessibility_findings(
    page, live_server, login, admin, rep, team, by_name, width
):
    admin.set_password("correct-horse-battery")
    admin.save()
    org = OrganizationFactory(name="Acme", owner=rep)
    contact = ContactFactory(organization=org, owner=rep)
    DealFactory(owner=rep, stage=by_name["Qualify"])
    page.set_viewport_size({"width": width, "height": 900})
    login(page, admin)
    paths = [
        reverse("settings_users"),
        reverse("settings_user", args=[rep.pk]),
        reverse("settings_user_new"),
        reverse("settings_user_deactivate", args=[rep.pk]),
        reverse("settings_teams"),
        reverse("settings_audit"),
        reverse("accounts:profile"),
        reverse("accounts:password_change"),
        reverse("contacts"),
        reverse("contact_detail", args=[contact.pk]),
        reverse("contact_edit", args=[contact.pk]),
        reverse("organizations"),
        reverse("organization_detail", args=[org.pk]),
    ]
    findings = {}
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        found = serious_violations(page)
        if found:
            findings[path] = found
    assert findings == {}, json.dumps(findings, indent=1)


def test_the_password_reset_pages_have_no_serious_accessibility_findings(page, live_server):
    for path in (reverse("accounts:password_reset"), reverse("accounts:password_reset_done")):
        page.goto(f"{live_server.url}{path}")
        assert serious_violations(page) == [], path
