"""Defects a new user ran into, checked on the rendered pages (the browser side is in
tests/e2e/test_ui_defects.py)."""

import re
from collections import Counter
from decimal import Decimal

import pytest
from django.urls import reverse

from pipeline.services import deal_create

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def between(html: str, start: str, end: str) -> str:
    html = html[html.index(start) :]
    return html[: html.index(end)]


# ---- The Move dialog -------------------------------------------------------------------------


def test_the_move_dialog_does_not_offer_the_won_stage_as_an_ordinary_stage(
    rep_client, by_name, default_pipeline
):
    html = rep_client.get(reverse("board", args=[default_pipeline.pk])).content.decode()
    stages = between(html, "<legend>To stage</legend>", "</fieldset>")
    assert re.findall(r'data-move-stage="(\d+)"', stages) == [
        str(by_name[name].pk)
        for name in ["Prospect", "Qualify", "Proposal", "Negotiation", "Closing"]
    ]
    assert f'data-move-stage="{by_name["Follow-up"].pk}"' not in html


def test_winning_from_the_move_dialog_says_where_the_deal_goes(rep_client, default_pipeline):
    html = rep_client.get(reverse("board", args=[default_pipeline.pk])).content.decode()
    button = re.search(r'<button[^>]*data-move-outcome="won"[^>]*>', html).group(0)
    assert 'aria-describedby="move-won-note"' in button
    note = between(html, 'id="move-won-note"', "</p>")
    assert "A won deal moves to Follow-up" in note


# ---- A filter that matches nothing -----------------------------------------------------------


def test_an_unfiltered_empty_column_still_says_what_to_do(rep_client, default_pipeline):
    html = rep_client.get(reverse("board", args=[default_pipeline.pk])).content.decode()
    assert "No deals in Prospect yet: drag one here or add one." in html
    assert "data-filtered" not in html


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_filter_that_matches_nothing_says_so_in_every_column(
    rep_client, rep, by_name, default_pipeline, htmx
):
    deal_create(actor=rep, title="Acme renewal", stage=by_name["Qualify"], value=Decimal(10))
    headers = {**HTMX, "HTTP_HX_TARGET": "board-columns"} if htmx else {}
    url = reverse("board", args=[default_pipeline.pk])
    html = rep_client.get(url, {"q": "no such deal"}, **headers).content.decode()
    assert "drag one here or add one" not in html
    assert "No deals in Prospect match the filters." in html
    assert "No deals in Follow-up match the filters." in html
    assert html.count("data-filtered") == len(by_name)


def test_the_board_offers_one_link_that_clears_the_filters(rep_client, default_pipeline):
    url = reverse("board", args=[default_pipeline.pk])
    html = rep_client.get(url, {"q": "no such deal"}).content.decode()
    notice = between(html, 'class="board-no-matches"', "</div>")
    assert "No deals match the filters." in notice
    assert f'href="{url}"' in notice and "Clear filters" in notice


# ---- Removing a stage ------------------------------------------------------------------------


def removal_dialog(html: str, stage) -> str:
    return between(html, f'<dialog class="dialog" id="remove-stage-{stage.pk}"', "</dialog>")


def selected_target(dialog: str) -> str:
    return re.search(r'<option value="(\d+)" selected>', dialog).group(1)


def test_removing_a_stage_proposes_the_stage_before_it(
    admin_client, rep, by_name, default_pipeline
):
    for name in ["Prospect", "Proposal", "Closing"]:
        deal_create(actor=rep, title=f"In {name}", stage=by_name[name])
    html = admin_client.get(reverse("settings_stages", args=[default_pipeline.pk])).content.decode()
    assert selected_target(removal_dialog(html, by_name["Proposal"])) == str(by_name["Qualify"].pk)
    assert selected_target(removal_dialog(html, by_name["Closing"])) == str(
        by_name["Negotiation"].pk
    )
    # The first stage has nothing before it: its deals are proposed the next stage.
    assert selected_target(removal_dialog(html, by_name["Prospect"])) == str(by_name["Qualify"].pk)


def test_the_removal_confirmation_says_how_many_deals_move_and_where(
    admin_client, rep, by_name, default_pipeline
):
    for n in range(3):
        deal_create(actor=rep, title=f"Deal {n}", stage=by_name["Proposal"])
    deal_create(actor=rep, title="Only one", stage=by_name["Closing"])
    html = admin_client.get(reverse("settings_stages", args=[default_pipeline.pk])).content.decode()
    dialog = removal_dialog(html, by_name["Proposal"])
    assert "Remove the stage “Proposal”?" in dialog
    assert "Move its 3 deals to" in dialog
    assert re.search(r"3 deals move to <strong[^>]*>Qualify</strong>", dialog)
    assert ">Remove “Proposal” and move 3 deals</button>" in dialog
    assert 'formmethod="dialog"' in dialog  # Cancel closes without posting
    one = removal_dialog(html, by_name["Closing"])
    assert re.search(r"1 deal moves to <strong[^>]*>Negotiation</strong>", one)
    assert ">Remove “Closing” and move 1 deal</button>" in one
    empty = removal_dialog(html, by_name["Negotiation"])
    assert "No deals are in this stage." in empty and 'name="target"' not in empty
    assert ">Remove “Negotiation”</button>" in empty


def test_the_remove_button_opens_the_confirmation_instead_of_removing(
    admin_client, by_name, default_pipeline
):
    html = admin_client.get(reverse("settings_stages", args=[default_pipeline.pk])).content.decode()
    proposal = by_name["Proposal"]
    opener = re.search(rf'<button[^>]*data-open-dialog="remove-stage-{proposal.pk}"[^>]*>', html)
    assert opener and 'type="button"' in opener.group(0)
    assert f'commandfor="remove-stage-{proposal.pk}"' in opener.group(0)


# ---- Headings, landmarks, navigation ---------------------------------------------------------


def test_the_stage_settings_page_has_one_h1_naming_the_pipeline(admin_client, default_pipeline):
    html = admin_client.get(reverse("settings_stages", args=[default_pipeline.pk])).content.decode()
    assert re.findall(r"<h1[^>]*>(.*?)</h1>", html) == [default_pipeline.name]


def test_the_reports_regions_have_unique_names(client, manager, rep, by_name):
    deal_create(actor=rep, title="Acme", stage=by_name["Qualify"], value=Decimal(100))
    client.force_login(manager)
    html = client.get(reverse("reports")).content.decode()
    titles = dict(re.findall(r'<h2 id="([\w-]+)">(.*?)</h2>', html))
    names = [
        titles[labelledby] if labelledby else label
        for labelledby, label in re.findall(
            r'<(?:section|div)[^>]*?(?:aria-labelledby="([\w-]+)"|aria-label="([^"]+)")', html
        )
        if labelledby in titles or label
    ]
    assert names and [name for name, n in Counter(names).items() if n > 1] == []


def test_the_main_navigation_has_no_django_admin_link_and_settings_has_it(client, admin):
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    html = client.get(reverse("home")).content.decode()
    main = between(html, 'aria-label="Main"', "</nav>")
    assert "Settings" in main and reverse("admin:index") not in main
    settings_page = client.get(reverse("settings_pipelines")).content.decode()
    settings_nav = between(settings_page, 'class="settings-nav"', "</nav>")
    assert f'href="{reverse("admin:index")}"' in settings_nav and "Django admin" in settings_nav


def test_the_settings_navigation_links_the_django_admin_only_for_staff(client, admin):
    client.force_login(admin)
    settings_page = client.get(reverse("settings_pipelines")).content.decode()
    assert reverse("admin:index") not in settings_page
