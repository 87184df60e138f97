"""Activities and notifications in a real browser: no serious accessibility findings, and a
next step planned from a board card through its dialog, with the keyboard."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Activity, Notification
from pipeline.services import activity_create, deal_create
from tests.e2e.test_accessibility import serious_violations
from tests.factories import ContactFactory, NotificationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}  # axe is injected inline


@pytest.fixture
def data(rep, by_name):
    deal = deal_create(actor=rep, title="Acme renewal", stage=by_name["Qualify"], value=Decimal(9))
    activity = activity_create(
        actor=rep,
        deal=deal,
        kind="call",
        subject="Pricing call",
        due_at=timezone.now() - dt.timedelta(hours=2),
        assignee=rep,
    )
    NotificationFactory(user=rep, text="Call “Pricing call” is due", link="/activities/")
    return {"deal": deal, "activity": activity, "contact": ContactFactory()}


@pytest.mark.parametrize("width", [1440, 390])
def test_activity_and_notification_pages_have_no_serious_findings(
    page, live_server, login, rep, data, width
):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, rep)
    paths = [
        reverse("my_activities"),
        reverse("notifications"),
        reverse("activity_edit", args=[data["activity"].pk]),
        reverse("contact_detail", args=[data["contact"].pk]),
    ]
    findings = {}
    for path in paths:
        page.goto(f"{live_server.url}{path}", wait_until="networkidle")
        found = serious_violations(page)
        if found:
            findings[path] = found
    assert findings == {}, json.dumps(findings, indent=1)


def test_the_bell_shows_the_unread_count(page, live_server, login, rep, data):
    login(page, rep)
    page.goto(f"{live_server.url}/")
    bell = page.locator(".app-bell")
    bell.locator(".has-unread").wait_for()
    assert "1 unread" in bell.inner_text()


def test_a_next_step_is_planned_from_a_card_with_the_keyboard(page, live_server, login, rep, data):
    login(page, rep)
    page.goto(f"{live_server.url}/")
    deal = data["deal"]
    page.locator(f"#deal-{deal.pk} .card-plan").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#plan-dialog")
    dialog.locator("#plan-subject").wait_for()
    page.keyboard.type("Send the contract")
    dialog.get_by_role("button", name="Plan activity").click()
    dialog.wait_for(state="hidden")
    assert Activity.objects.filter(deal=deal, subject="Send the contract").exists()
    assert page.evaluate("document.activeElement.id") == f"deal-{deal.pk}"


def test_opening_a_notification_marks_it_read(page, live_server, login, rep, data):
    login(page, rep)
    page.goto(f"{live_server.url}/notifications/")
    page.get_by_role("link", name="Call “Pricing call” is due").click()
    page.wait_for_url("**/activities/")
    page.locator(".app-bell-count").wait_for(state="attached")
    page.wait_for_function("!document.querySelector('.app-bell-count.has-unread')")
    assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()
