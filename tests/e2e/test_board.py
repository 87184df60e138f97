"""The board in a real browser: drag, keyboard moves, lost reasons, live updates."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from pipeline.models import Deal
from pipeline.services import deal_create, deal_move

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def deals(rep, by_name):
    qualify = by_name["Qualify"]
    return {
        title: deal_create(actor=rep, title=title, stage=qualify, value=Decimal(value))
        for title, value in [("Gamma", 3000), ("Beta", 2000), ("Alpha", 1000)]
    }


def column(page: Page, stage):
    return page.locator(f'section[data-stage-id="{stage.pk}"]')


def card(page: Page, deal):
    return page.locator(f'[data-deal-id="{deal.pk}"]')


def card_titles(page: Page, stage) -> list[str]:
    return column(page, stage).locator(".card .card-title").all_inner_texts()


def drag(page: Page, source, target, *, offset_y: float | None = None):
    """Drag with real mouse steps, as SortableJS listens to pointer events."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 12)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 5, box["y"] + 20, steps=4)
    page.wait_for_timeout(250)  # the won/lost targets slide in once a drag starts
    target_box = target.bounding_box()
    y = target_box["y"] + (offset_y if offset_y is not None else target_box["height"] / 2)
    page.mouse.move(target_box["x"] + target_box["width"] / 2, y, steps=12)
    # SortableJS ignores pointer moves while its swap animation runs: let it settle, nudge.
    page.wait_for_timeout(250)
    page.mouse.move(target_box["x"] + target_box["width"] / 2, y + 2, steps=2)
    page.wait_for_timeout(100)
    page.mouse.up()


def wait_saved(page: Page):
    # A locator wait, not wait_for_function: that one evals its predicate, which the
    # Content-Security-Policy (no unsafe-eval) rightly refuses.
    expect(page.locator(".card.is-saving")).to_have_count(0)
    page.wait_for_timeout(150)


def test_columns_are_named_by_their_stages(page, login, rep, stages, deals):
    login(page, rep)
    for stage in stages:
        expect(page.get_by_role("region", name=stage.name, exact=True)).to_have_attribute(
            "data-stage-id", str(stage.pk)
        )


def test_dragging_a_card_to_another_column_persists_across_a_reload(
    page, login, rep, by_name, deals
):
    login(page, rep)
    alpha = deals["Alpha"]
    drag(page, card(page, alpha), column(page, by_name["Proposal"]).locator(".cards"))
    wait_saved(page)
    expect(page.locator("#live-region")).to_contain_text("moved to Proposal")
    expect(column(page, by_name["Proposal"]).locator(".column-count")).to_have_text("1")
    alpha.refresh_from_db()
    assert alpha.stage == by_name["Proposal"]
    page.reload()
    expect(
        column(page, by_name["Proposal"]).locator(f'[data-deal-id="{alpha.pk}"]')
    ).to_be_visible()


def test_dragging_within_a_column_reorders_and_persists(page, login, rep, by_name, deals):
    login(page, rep)
    qualify = by_name["Qualify"]
    assert card_titles(page, qualify) == ["Alpha", "Beta", "Gamma"]
    gamma_box = card(page, deals["Gamma"]).bounding_box()
    drag(
        page,
        card(page, deals["Alpha"]),
        card(page, deals["Gamma"]),
        offset_y=gamma_box["height"] * 0.8,
    )
    wait_saved(page)
    page.reload()
    assert card_titles(page, qualify) == ["Beta", "Gamma", "Alpha"]


def test_the_keyboard_move_dialog_moves_a_card_and_announces_it(page, login, rep, by_name, deals):
    login(page, rep)
    beta = deals["Beta"]
    card(page, beta).focus()
    page.keyboard.press("m")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Negotiation").focus()
    page.keyboard.press("Enter")
    wait_saved(page)
    expect(page.locator("#live-region")).to_contain_text("moved to Negotiation, position 1 of 1")
    expect(
        column(page, by_name["Negotiation"]).locator(f'[data-deal-id="{beta.pk}"]')
    ).to_be_visible()
    expect(card(page, beta)).to_be_focused()
    beta.refresh_from_db()
    assert beta.stage == by_name["Negotiation"]


def test_move_up_and_down_from_the_keyboard(page, login, rep, by_name, deals):
    login(page, rep)
    card(page, deals["Beta"]).get_by_role("button", name=re.compile("^Move")).click()
    page.get_by_role("dialog").get_by_role("button", name="Move up").click()
    wait_saved(page)
    assert card_titles(page, by_name["Qualify"]) == ["Beta", "Alpha", "Gamma"]
    page.reload()
    assert card_titles(page, by_name["Qualify"]) == ["Beta", "Alpha", "Gamma"]


def test_a_lost_drop_asks_for_a_reason_and_takes_the_card_off_the_board(
    page, login, rep, by_name, deals
):
    login(page, rep)
    gamma = deals["Gamma"]
    drag(page, card(page, gamma), page.locator(".drop-lost"))
    dialog = page.get_by_role("dialog", name=re.compile("Why was"))
    expect(dialog).to_be_visible()
    dialog.get_by_label("Chose a competitor").check()
    dialog.get_by_role("button", name="Mark as lost").click()
    wait_saved(page)
    expect(card(page, gamma)).to_have_count(0)
    gamma.refresh_from_db()
    assert (gamma.status, gamma.lost_reason) == ("lost", "Chose a competitor")


def test_cancelling_the_lost_dialog_puts_the_card_back(page, login, rep, by_name, deals):
    login(page, rep)
    drag(page, card(page, deals["Beta"]), page.locator(".drop-lost"))
    page.keyboard.press("Escape")
    expect(
        column(page, by_name["Qualify"]).locator(f'[data-deal-id="{deals["Beta"].pk}"]')
    ).to_be_visible()
    assert Deal.objects.get(pk=deals["Beta"].pk).status == "open"


def test_a_won_drop_moves_the_card_into_follow_up(page, login, rep, by_name, deals):
    login(page, rep)
    drag(page, card(page, deals["Alpha"]), page.locator(".drop-won"))
    wait_saved(page)
    expect(
        column(page, by_name["Follow-up"]).locator(f'[data-deal-id="{deals["Alpha"].pk}"]')
    ).to_be_visible()
    assert Deal.objects.get(pk=deals["Alpha"].pk).status == "won"


def test_a_second_browser_sees_the_first_ones_move_without_reloading(
    browser, live_server, login, rep, manager, by_name, deals
):
    watcher_context = browser.new_context()
    watcher = login(watcher_context.new_page(), manager)
    alpha = deals["Alpha"]
    alpha.refresh_from_db()
    deal_move(actor=rep, deal_id=alpha.pk, version=alpha.version, stage_id=by_name["Closing"].pk)
    expect(
        column(watcher, by_name["Closing"]).locator(f'[data-deal-id="{alpha.pk}"]')
    ).to_be_visible(timeout=8000)
    watcher_context.close()


def test_a_stale_card_is_refused_with_a_message_and_the_board_refreshes(
    page, login, rep, manager, by_name, deals
):
    login(page, rep)
    beta = deals["Beta"]
    beta.refresh_from_db()
    # Someone else moves the deal after this page was drawn.
    deal_move(actor=manager, deal_id=beta.pk, version=beta.version, stage_id=by_name["Closing"].pk)
    page.evaluate("document.getElementById('board').dataset.live = 'off'")
    card(page, beta).get_by_role("button", name=re.compile("^Move")).click()
    page.get_by_role("dialog").get_by_role("button", name="Proposal").click()
    expect(page.locator("#live-region")).to_contain_text("changed by someone else")
    expect(column(page, by_name["Closing"]).locator(f'[data-deal-id="{beta.pk}"]')).to_be_visible()
    beta.refresh_from_db()
    assert beta.stage == by_name["Closing"]


def test_the_board_works_under_the_content_security_policy(page, login, rep, by_name, deals):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    login(page, rep)
    drag(page, card(page, deals["Alpha"]), column(page, by_name["Proposal"]).locator(".cards"))
    wait_saved(page)
    card(page, deals["Beta"]).get_by_role("button", name=re.compile("^Move")).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add a deal to Qualify").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert violations == []
