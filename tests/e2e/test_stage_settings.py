"""Stage settings in a real browser: drag to reorder, rename in place, remove with deals."""

import re

import pytest
from playwright.sync_api import expect

from pipeline.models import Stage
from pipeline.services import deal_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def board_column_names(page, live_server):
    page.goto(f"{live_server.url}/")
    return page.locator(".column-title").all_inner_texts()


def settings_url(live_server, pipeline):
    return f"{live_server.url}/settings/pipelines/{pipeline.pk}/"


def test_dragging_stages_reorders_the_boards_columns(
    page, live_server, login, admin, default_pipeline, stages
):
    login(page, admin)
    page.goto(settings_url(live_server, default_pipeline))
    rows = page.locator(".stage-row")
    source = rows.nth(0).locator(".drag-handle")
    target = rows.nth(2)
    box, target_box = source.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 4, box["y"] + 10, steps=4)
    page.mouse.move(target_box["x"] + 40, target_box["y"] + target_box["height"] * 0.75, steps=12)
    page.wait_for_timeout(250)
    page.mouse.move(
        target_box["x"] + 42, target_box["y"] + target_box["height"] * 0.75 + 2, steps=2
    )
    page.mouse.up()
    expect(page.locator("#live-region")).to_have_text("Stage order saved.")
    order = list(
        Stage.objects.active()
        .filter(pipeline=default_pipeline)
        .order_by("position")
        .values_list("name", flat=True)
    )
    assert order[0] != "Prospect" and "Prospect" in order[1:3]
    assert board_column_names(page, live_server) == order


def test_renaming_a_stage_in_place_shows_on_the_board(
    page, live_server, login, admin, default_pipeline, by_name
):
    login(page, admin)
    page.goto(settings_url(live_server, default_pipeline))
    field = page.locator(f"#stage-{by_name['Proposal'].pk}").get_by_label("Name", exact=True)
    field.fill("Offer sent")
    field.press("Tab")
    expect(page.locator("#live-region")).to_contain_text("saved")
    by_name["Proposal"].refresh_from_db()
    assert by_name["Proposal"].name == "Offer sent"
    assert "Offer sent" in board_column_names(page, live_server)


def test_removing_a_stage_that_holds_deals(
    page, live_server, login, admin, rep, default_pipeline, by_name
):
    deal = deal_create(actor=rep, title="Acme renewal", stage=by_name["Proposal"])
    login(page, admin)
    page.goto(settings_url(live_server, default_pipeline))
    row = page.locator(f"#stage-{by_name['Proposal'].pk}")
    row.get_by_text("Remove…").click()
    row.get_by_label(re.compile("Move its 1 deal to")).select_option(label="Negotiation")
    row.get_by_role("button", name=re.compile("Remove “Proposal”")).click()
    expect(page.get_by_role("status").first).to_contain_text("Stage “Proposal” removed")
    deal.refresh_from_db()
    assert deal.stage == by_name["Negotiation"]
    assert "Proposal" not in board_column_names(page, live_server)
