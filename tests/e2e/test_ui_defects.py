"""Defects a new user ran into, checked in a real browser at desktop and phone widths."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from pipeline.models import Deal, Stage
from pipeline.services import activity_create, deal_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = [1440, 390]


def column(page: Page, stage):
    return page.locator(f'section[data-stage-id="{stage.pk}"]')


def card(page: Page, deal):
    return page.locator(f'[data-deal-id="{deal.pk}"]')


# ---- [hidden] and the Move dialog ------------------------------------------------------------


def test_the_hidden_attribute_wins_over_component_display_rules(page, login, rep):
    login(page, rep)
    displays = page.evaluate(
        """() => ["button", "badge", "empty-state", "check", "menu-item"].map((name) => {
            const element = document.createElement(name === "check" ? "label" : "div");
            element.className = name === "button" ? "button button-secondary" : name;
            element.hidden = true;
            document.body.appendChild(element);
            const display = getComputedStyle(element).display;
            element.remove();
            return display;
        })"""
    )
    assert displays == ["none"] * 5


@pytest.mark.parametrize("width", WIDTHS)
def test_the_move_dialog_offers_winning_only_as_a_labelled_action(page, login, rep, by_name, width):
    page.set_viewport_size({"width": width, "height": 900})
    deal = deal_create(actor=rep, title="Acme renewal", stage=by_name["Qualify"])
    login(page, rep)
    card(page, deal).get_by_role("button", name=re.compile("^Move")).click()
    dialog = page.get_by_role("dialog", name=re.compile("Move"))
    expect(dialog).to_be_visible()
    stages = dialog.get_by_role("group", name="To stage")
    expect(stages.get_by_role("button")).to_have_text(
        ["Prospect", "Qualify", "Proposal", "Negotiation", "Closing"]
    )
    expect(stages.get_by_role("button", name="Follow-up")).to_have_count(0)
    won = dialog.get_by_role("button", name=re.compile("^Mark as won"))
    expect(won).to_be_visible()
    expect(won).to_have_accessible_description(re.compile("Follow-up"))
    assert Deal.objects.get(pk=deal.pk).status == Deal.Status.OPEN
    won.click()
    expect(
        column(page, by_name["Follow-up"]).locator(f'[data-deal-id="{deal.pk}"]')
    ).to_be_visible()
    expect(page.locator("#live-region")).to_contain_text("won")
    assert Deal.objects.get(pk=deal.pk).status == Deal.Status.WON


# ---- A rotting card keeps every action visible ----------------------------------------------


@pytest.fixture
def rotting_deal(rep, by_name):
    deal = deal_create(
        actor=rep,
        title="Lakeside Software – data migration project",
        stage=by_name["Qualify"],
        value=Decimal("47500"),
    )
    activity_create(
        actor=rep,
        deal=deal,
        kind="call",
        subject="Follow up on first conversation",
        due_at=timezone.now() - dt.timedelta(days=7),
        assignee=rep,
    )
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=timezone.now() - dt.timedelta(days=121))
    return deal


def inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_a_rotting_card_keeps_every_action_inside_the_card(page, login, rep, rotting_deal, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, rep)
    rotting = card(page, rotting_deal)
    rotting.scroll_into_view_if_needed()
    expect(rotting).to_have_class(re.compile("is-rotting"))
    expect(rotting.get_by_text("Rotting")).to_be_visible()
    # The column's card list must not have to scroll sideways to show the card.
    cards = rotting.locator("xpath=..")
    assert cards.evaluate("list => list.scrollWidth <= list.clientWidth")
    box = rotting.bounding_box()
    list_box = cards.bounding_box()
    assert inside(box, list_box)
    for action in rotting.get_by_role("button").all() + rotting.get_by_role("link").all():
        expect(action).to_be_visible()
        assert inside(action.bounding_box(), box), action.inner_text()
        action_box = action.bounding_box()
        assert action_box["width"] >= 24 and action_box["height"] >= 24, action.inner_text()


# ---- A filter that matches nothing ----------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_a_filter_that_matches_nothing_says_so_and_clears_with_one_link(
    page, live_server, login, rep, by_name, width
):
    page.set_viewport_size({"width": width, "height": 900})
    deal = deal_create(actor=rep, title="Acme renewal", stage=by_name["Qualify"])
    login(page, rep)
    notice = page.get_by_role("status").filter(has=page.get_by_role("link", name="Clear filters"))
    expect(notice).to_have_count(0)
    page.get_by_label("Search deals").fill("no such deal")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("No deals match the filters")
    expect(page.locator("#live-region")).to_have_text("No deals match the filters.")
    expect(page.get_by_text("drag one here or add one")).to_have_count(0)
    expect(column(page, by_name["Prospect"])).to_contain_text("No deals in Prospect match")
    notice.get_by_role("link", name="Clear filters").click()
    expect(card(page, deal)).to_be_visible()
    expect(page.get_by_label("Search deals")).to_have_value("")
    expect(notice).to_have_count(0)
    assert page.url == f"{live_server.url}{reverse('board', args=[by_name['Qualify'].pipeline_id])}"


def test_a_filtered_board_that_still_has_matches_shows_no_notice(page, login, rep, by_name):
    deal_create(actor=rep, title="Acme renewal", stage=by_name["Qualify"])
    login(page, rep)
    page.get_by_label("Search deals").fill("Acme")
    expect(page.locator(".card")).to_have_count(1)
    expect(page.locator(".board-no-matches")).to_be_hidden()
    expect(page.locator(".board-clear")).to_be_visible()
    expect(page.locator("#live-region")).to_have_text("1 deal matches the filters.")


# ---- Removing a stage --------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_removing_a_stage_proposes_the_stage_before_it_and_confirms_the_count(
    page, live_server, login, admin, rep, default_pipeline, by_name, width
):
    page.set_viewport_size({"width": width, "height": 900})
    deals = [deal_create(actor=rep, title=f"Deal {n}", stage=by_name["Proposal"]) for n in range(3)]
    login(page, admin)
    page.goto(f"{live_server.url}{reverse('settings_stages', args=[default_pipeline.pk])}")
    row = page.locator(f"#stage-{by_name['Proposal'].pk}")
    row.get_by_role("button", name=re.compile("Remove")).click()
    dialog = page.get_by_role("dialog", name="Remove the stage “Proposal”?")
    expect(dialog).to_be_visible()
    target = dialog.get_by_label(re.compile("Move its 3 deals to"))
    expect(target.locator("option:checked")).to_have_text("Qualify")
    confirm = dialog.get_by_role("button", name="Remove “Proposal” and move 3 deals")
    expect(confirm).to_be_visible()
    expect(dialog).to_contain_text("3 deals move to Qualify")
    target.select_option(label="Negotiation")
    expect(dialog).to_contain_text("3 deals move to Negotiation")

    # Cancel keeps everything as it was.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row.get_by_role("button", name=re.compile("Remove"))).to_be_focused()
    assert not Stage.objects.get(pk=by_name["Proposal"].pk).is_archived

    row.get_by_role("button", name=re.compile("Remove")).click()
    dialog.get_by_label(re.compile("Move its 3 deals to")).select_option(label="Negotiation")
    confirm.click()
    expect(page.get_by_role("status").first).to_contain_text("Stage “Proposal” removed")
    assert Stage.objects.get(pk=by_name["Proposal"].pk).is_archived
    assert {d.stage_id for d in Deal.objects.filter(pk__in=[d.pk for d in deals])} == {
        by_name["Negotiation"].pk
    }


def test_removing_the_first_stage_proposes_the_next_one(
    page, live_server, login, admin, rep, default_pipeline, by_name
):
    deal_create(actor=rep, title="Acme", stage=by_name["Prospect"])
    login(page, admin)
    page.goto(f"{live_server.url}{reverse('settings_stages', args=[default_pipeline.pk])}")
    page.locator(f"#stage-{by_name['Prospect'].pk}").get_by_role(
        "button", name=re.compile("Remove")
    ).click()
    dialog = page.get_by_role("dialog", name="Remove the stage “Prospect”?")
    expect(
        dialog.get_by_label(re.compile("Move its 1 deal to")).locator("option:checked")
    ).to_have_text("Qualify")
    expect(dialog.get_by_role("button", name="Remove “Prospect” and move 1 deal")).to_be_visible()


# ---- axe: one h1, unique landmarks --------------------------------------------------------------


def axe_findings(page: Page, rules: list[str]) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (rules) => await axe.run(document, {runOnly: {type: 'rule', values: rules},"
        " resultTypes: ['violations']})",
        rules,
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_stage_settings_and_reports_have_an_h1_and_unique_landmarks(
    browser, live_server, login, admin, rep, default_pipeline, by_name, width
):
    deal_create(actor=rep, title="Acme", stage=by_name["Qualify"], value=Decimal(900))
    # axe is injected as an inline script, which the Content-Security-Policy rightly blocks.
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = login(context.new_page(), admin)
    rules = ["page-has-heading-one", "landmark-unique", "landmark-one-main", "region"]
    findings = {}
    for path in [reverse("settings_stages", args=[default_pipeline.pk]), reverse("reports")]:
        page.goto(f"{live_server.url}{path}")
        if found := axe_findings(page, rules):
            findings[path] = found
    context.close()
    assert findings == {}


# ---- Navigation -------------------------------------------------------------------------------


def test_the_main_navigation_leaves_the_django_admin_to_settings(page, live_server, login, admin):
    admin.is_staff = True
    admin.save()
    login(page, admin)
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Settings")).to_be_visible()
    expect(main_nav.get_by_role("link", name=re.compile("admin", re.I))).to_have_count(0)
    main_nav.get_by_role("link", name="Settings").click()
    settings_nav = page.get_by_role("navigation", name="Settings")
    expect(settings_nav.get_by_role("link", name="Django admin")).to_have_attribute(
        "href", reverse("admin:index")
    )
