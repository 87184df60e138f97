"""axe-core (from npm) scans every page we build: no serious or critical findings."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from pipeline.services import activity_create, deal_create, deal_move

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # axe is injected as an inline script, which our Content-Security-Policy rightly blocks.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def data(rep, by_name):
    deal = deal_create(
        actor=rep, title="Acme renewal", stage=by_name["Qualify"], value=Decimal(9000)
    )
    activity_create(
        actor=rep,
        deal=deal,
        kind="call",
        subject="Pricing call",
        due_at=deal.created_at,
        assignee=rep,
    )
    lost = deal_create(actor=rep, title="Lost one", stage=by_name["Proposal"])
    deal_move(
        actor=rep, deal_id=lost.pk, version=lost.version, outcome="lost", lost_reason="Timing"
    )
    return {"deal": deal, "pipeline": by_name["Qualify"].pipeline}


def test_the_login_page_has_no_serious_accessibility_findings(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    assert serious_violations(page) == []


@pytest.mark.parametrize("width", [1440, 390])
def test_the_board_deal_page_and_lists_have_no_serious_accessibility_findings(
    page, live_server, login, rep, data, width
):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, rep)
    paths = [
        "/",
        reverse("deal_detail", args=[data["deal"].pk]),
        reverse("deals_lost", args=[data["pipeline"].pk]),
        reverse("deals_won", args=[data["pipeline"].pk]),
    ]
    findings = {}
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        found = serious_violations(page)
        if found:
            findings[path] = found
    assert findings == {}, json.dumps(findings, indent=1)


@pytest.mark.parametrize("width", [1440, 390])
def test_the_reports_page_has_no_serious_accessibility_findings(
    page, live_server, login, manager, rep, data, width
):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, manager)
    page.goto(f"{live_server.url}{reverse('reports')}")
    assert page.get_by_role("heading", name="Stage metrics").is_visible()
    assert serious_violations(page) == []
