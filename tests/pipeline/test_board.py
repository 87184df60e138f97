"""The board page and its endpoints: move, quick add, load more, change polling."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Organization
from pipeline.models import Deal, StageChange
from pipeline.selectors import CARDS_PER_COLUMN
from pipeline.services import activity_create, deal_create, deal_move
from tests.factories import ActivityFactory, DealFactory, OrganizationFactory, UserFactory
from tests.queries import count_statements

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_deals(owner, stages, count, **extra):
    deals = []
    for index in range(count):
        stage = stages[index % 5]
        deal = deal_create(
            actor=owner, title=f"Deal {index}", stage=stage, value=Decimal(1000 + index)
        )
        if index % 3 == 0:
            ActivityFactory(deal=deal, assignee=owner)
        deals.append(deal)
    return deals


def board_url(pipeline, **params):
    url = reverse("board", args=[pipeline.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def post_move(client, deal, **data):
    deal.refresh_from_db()
    payload = {"version": deal.version, "context": "board", **data}
    return client.post(reverse("deal_move", args=[deal.pk]), payload, **HTMX)


# ---- The page -------------------------------------------------------------------------


def test_the_site_root_shows_the_default_pipeline_board_in_stage_order(rep_client, stages):
    response = rep_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    names = re.findall(r'<h2 class="column-title" id="column-title-\d+">([^<]+)</h2>', html)
    assert names == [stage.name for stage in stages]


def test_every_column_carries_its_stage_id_and_is_named_by_its_stage(rep_client, stages):
    html = rep_client.get("/").content.decode()
    for stage in stages:
        assert f'data-stage-id="{stage.pk}" aria-labelledby="column-title-{stage.pk}"' in html
        assert f'id="column-title-{stage.pk}">{stage.name}</h2>' in html


def test_a_rep_sees_only_their_own_cards(rep_client, rep, outsider, by_name):
    mine = deal_create(actor=rep, title="Mine", stage=by_name["Qualify"])
    deal_create(actor=outsider, title="Theirs", stage=by_name["Qualify"])
    html = rep_client.get("/").content.decode()
    assert f'data-deal-id="{mine.pk}"' in html
    assert "Theirs" not in html


def test_a_card_shows_value_owner_close_date_days_in_stage_and_next_step(rep_client, rep, by_name):
    org = OrganizationFactory(name="Blue Harbor Logistics")
    deal = deal_create(
        actor=rep,
        title="Fleet tracking",
        stage=by_name["Proposal"],
        value=Decimal("12500"),
        currency="EUR",
        organization=org,
        expected_close_date=timezone.localdate() + dt.timedelta(days=3),
    )
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=timezone.now() - dt.timedelta(days=4))
    html = rep_client.get("/").content.decode()
    assert "Blue Harbor Logistics" in html
    assert "€12,500" in html
    assert "Closes in 3 days" in html
    assert "4 days in stage" in html
    assert "No next step planned" in html
    assert rep.initials in html
    activity_create(
        actor=rep,
        deal=deal,
        kind="email",
        subject="Send revised quote",
        due_at=timezone.now() + dt.timedelta(days=1),
        assignee=rep,
    )
    html = rep_client.get("/").content.decode()
    assert "Send revised quote" in html


def test_a_cached_board_still_shows_a_renamed_stage_and_another_users_move(
    client, rep, manager, by_name
):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    client.force_login(manager)
    client.get("/")
    by_name["Proposal"].name = "Offer sent"
    by_name["Proposal"].save()
    assert "Offer sent" in client.get("/").content.decode()
    deal_move(actor=rep, deal_id=deal.pk, version=deal.version, stage_id=by_name["Closing"].pk)
    html = client.get("/").content.decode()
    closing = html[html.index(f'id="cards-{by_name["Closing"].pk}"') :]
    assert f'data-deal-id="{deal.pk}"' in closing[: closing.index("</ol>")]


def test_a_deal_past_its_stage_rotting_days_is_marked_with_text_not_only_colour(
    rep_client, rep, by_name
):
    deal = deal_create(actor=rep, title="Stale one", stage=by_name["Proposal"])
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=timezone.now() - dt.timedelta(days=30))
    html = rep_client.get("/").content.decode()
    card = html[html.index(f'id="deal-{deal.pk}"') :]
    card = card[: card.index("</li>")]
    assert "is-rotting" in html and "Rotting" in card


def test_column_headers_give_count_total_and_weighted_value_per_currency(rep_client, rep, by_name):
    proposal = by_name["Proposal"]  # 40 % win chance
    deal_create(actor=rep, title="A", stage=proposal, value=Decimal("1000"), currency="EUR")
    deal_create(actor=rep, title="B", stage=proposal, value=Decimal("500"), currency="EUR")
    deal_create(actor=rep, title="C", stage=proposal, value=Decimal("200"), currency="USD")
    html = rep_client.get("/").content.decode()
    head = html[html.index(f'id="column-head-{proposal.pk}"') :]
    head = head[: head.index("</header>")]
    assert ">3<" in head
    assert "€1,500" in head and "$200" in head
    assert "€600" in head and "$80" in head  # weighted, never summed across currencies


def test_an_empty_column_says_what_to_do(rep_client, by_name):
    html = rep_client.get("/").content.decode()
    assert "No deals in Negotiation yet: drag one here or add one." in html


def test_user_text_is_escaped(rep_client, rep, by_name):
    deal_create(actor=rep, title="<script>alert(1)</script>", stage=by_name["Qualify"])
    html = rep_client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_anonymous_visitors_are_sent_to_login(client, default_pipeline):
    response = client.get(board_url(default_pipeline))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_unknown_pipeline_is_404(rep_client):
    assert rep_client.get(reverse("board", args=[999_999])).status_code == 404


@pytest.mark.parametrize("params", [{"close": "someday"}, {"owner": "999999"}, {"q": "x" * 101}])
def test_invalid_filters_answer_400(rep_client, default_pipeline, params):
    assert rep_client.get(board_url(default_pipeline, **params)).status_code == 400


def test_a_column_shows_its_first_cards_and_offers_more(rep_client, rep, by_name):
    qualify = by_name["Qualify"]
    for index in range(CARDS_PER_COLUMN + 5):
        DealFactory(owner=rep, stage=qualify, title=f"Bulk {index}", position=index * 10)
    html = rep_client.get("/").content.decode()
    column = html[html.index(f'id="cards-{qualify.pk}"') :]
    column = column[: column.index("</ol>")]
    assert column.count('<li class="card') == CARDS_PER_COLUMN
    assert "Show more deals" in column
    last = Deal.objects.filter(title=f"Bulk {CARDS_PER_COLUMN - 1}").get()
    more = rep_client.get(
        reverse("column_more", args=[qualify.pipeline_id, qualify.pk]),
        {"after_position": last.position, "after_id": last.pk},
        **HTMX,
    )
    assert more.status_code == 200
    assert more.content.decode().count('<li class="card') == 5
    assert "Show more deals" not in more.content.decode()


def test_load_more_with_bad_parameters_is_400_and_unknown_stage_404(
    rep_client, by_name, default_pipeline
):
    stage = by_name["Qualify"]
    url = reverse("column_more", args=[default_pipeline.pk, stage.pk])
    assert rep_client.get(url, {"after_position": "x", "after_id": "1"}).status_code == 400
    assert rep_client.get(url).status_code == 400
    missing = reverse("column_more", args=[default_pipeline.pk, 999_999])
    assert rep_client.get(missing, {"after_position": 1, "after_id": 1}).status_code == 404


# ---- Filters ----------------------------------------------------------------------------


def test_filters_by_text_rotting_and_close_period(rep_client, rep, by_name):
    today = timezone.localdate()
    fresh = deal_create(
        actor=rep, title="Fresh", stage=by_name["Qualify"], expected_close_date=today
    )
    old = deal_create(actor=rep, title="Old", stage=by_name["Qualify"])
    Deal.objects.filter(pk=old.pk).update(stage_entered_at=timezone.now() - dt.timedelta(days=60))
    pipeline = by_name["Qualify"].pipeline

    def shown(**params):
        html = rep_client.get(board_url(pipeline, **params)).content.decode()
        return {int(pk) for pk in re.findall(r'data-deal-id="(\d+)"', html)}

    assert shown(q="fre") == {fresh.pk}
    assert shown(rotting=1) == {old.pk}
    assert shown(close="this_month") == {fresh.pk}
    assert shown(close="none") == {old.pk}


def test_a_manager_filters_by_one_rep_of_their_team(client, manager, rep, other_rep, by_name):
    mine = deal_create(actor=rep, title="Rep deal", stage=by_name["Qualify"])
    deal_create(actor=other_rep, title="Other deal", stage=by_name["Qualify"])
    client.force_login(manager)
    html = client.get(board_url(by_name["Qualify"].pipeline, owner=rep.pk)).content.decode()
    assert re.findall(r'data-deal-id="(\d+)"', html) == [str(mine.pk)]


def test_a_rep_cannot_filter_by_someone_else(rep_client, other_rep, default_pipeline):
    assert rep_client.get(board_url(default_pipeline, owner=other_rep.pk)).status_code == 400


def test_filtering_with_htmx_returns_only_the_columns(rep_client, default_pipeline):
    response = rep_client.get(
        board_url(default_pipeline, q="x"), HTTP_HX_TARGET="board-columns", **HTMX
    )
    html = response.content.decode()
    assert 'class="column' in html and "<html" not in html
    assert 'id="board-poll"' in html and 'hx-swap-oob="true"' in html


# ---- Query counts do not grow with the data -----------------------------------------------


def board_statements(client, pipeline):
    with count_statements() as statements:
        response = client.get(board_url(pipeline))
    assert response.status_code == 200
    return len(statements)


def test_the_board_costs_the_same_few_queries_at_two_data_sizes(client, admin, rep, stages):
    client.force_login(admin)
    pipeline = stages[0].pipeline
    make_deals(rep, stages, 6)
    small = board_statements(client, pipeline)
    make_deals(rep, stages, 150)
    other = UserFactory(team=rep.team)
    make_deals(other, stages, 30)
    large = board_statements(client, pipeline)
    assert small == large
    assert large <= 10


def test_a_move_costs_the_same_queries_at_two_data_sizes(rep_client, rep, stages):
    deals = make_deals(rep, stages, 6)

    def move_statements(deal, stage):
        deal.refresh_from_db()
        with count_statements() as statements:
            response = post_move(rep_client, deal, stage=stage.pk)
        assert response.status_code == 200
        return len(statements)

    small = move_statements(deals[0], stages[2])
    more = make_deals(rep, stages, 120)
    large = move_statements(more[0], stages[2])
    assert small == large


# ---- Moving -------------------------------------------------------------------------------


def test_dropping_a_card_on_another_column_moves_it_and_updates_both_headers(
    rep_client, rep, by_name
):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    response = post_move(rep_client, deal, stage=by_name["Proposal"].pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-deal-id="{deal.pk}"' in html
    assert f'id="column-head-{by_name["Qualify"].pk}" hx-swap-oob="true"' in html
    assert f'id="column-head-{by_name["Proposal"].pk}" hx-swap-oob="true"' in html
    assert "moved to Proposal, position 1 of 1" in response["HX-Trigger"]
    deal.refresh_from_db()
    assert deal.stage == by_name["Proposal"]
    assert deal.stage_changes.last().kind == StageChange.Kind.STAGE


def test_a_move_persists_for_every_other_user(rep_client, client, manager, rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    post_move(rep_client, deal, stage=by_name["Closing"].pk)
    client.force_login(manager)
    html = client.get("/").content.decode()
    closing = html[html.index(f'id="cards-{by_name["Closing"].pk}"') :]
    assert f'data-deal-id="{deal.pk}"' in closing[: closing.index("</ol>")]


def test_reordering_within_a_column_persists(rep_client, rep, by_name):
    qualify = by_name["Qualify"]
    first = deal_create(actor=rep, title="First", stage=qualify)
    second = deal_create(actor=rep, title="Second", stage=qualify)  # now on top
    post_move(rep_client, second, stage=qualify.pk, above=first.pk)
    html = rep_client.get("/").content.decode()
    assert html.index(f'id="deal-{first.pk}"') < html.index(f'id="deal-{second.pk}"')


def test_dropping_on_won_moves_the_deal_to_follow_up(rep_client, rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Closing"])
    response = post_move(rep_client, deal, outcome="won")
    assert response.status_code == 200
    assert "won and moved to Follow-up" in response["HX-Trigger"]
    deal.refresh_from_db()
    assert (deal.status, deal.stage) == ("won", by_name["Follow-up"])


def test_dropping_on_lost_needs_a_reason_and_takes_the_card_off_the_board(rep_client, rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Closing"])
    refused = post_move(rep_client, deal, outcome="lost")
    assert refused.status_code == 400
    deal.refresh_from_db()
    assert deal.status == "open"
    response = post_move(rep_client, deal, outcome="lost", lost_reason_choice="No budget")
    assert response.status_code == 200
    assert 'data-deal-id="' not in response.content.decode()
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == ("lost", "No budget")
    assert f'data-deal-id="{deal.pk}"' not in rep_client.get("/").content.decode()


def test_a_stale_version_gets_409_and_a_clear_message_and_nothing_changes(rep_client, rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    response = rep_client.post(
        reverse("deal_move", args=[deal.pk]),
        {"version": deal.version + 1, "stage": by_name["Proposal"].pk, "context": "board"},
        **HTMX,
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == by_name["Qualify"] and deal.version == 1


def test_another_users_deal_is_404_and_untouched(client, outsider, rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    client.force_login(outsider)
    response = post_move(client, deal, stage=by_name["Proposal"].pk)
    assert response.status_code == 404
    deal.refresh_from_db()
    assert deal.stage == by_name["Qualify"]


def test_an_unknown_deal_is_404(rep_client, by_name):
    response = rep_client.post(
        reverse("deal_move", args=[999_999]),
        {"version": 1, "stage": by_name["Proposal"].pk},
        **HTMX,
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"stage": "abc"},
        {"version": "", "stage": "1"},
        {},
        {"stage": "1", "outcome": "won"},
        {"outcome": "maybe"},
        {"outcome": "lost", "lost_reason": "x" * 301},
    ],
)
def test_malformed_moves_are_400_and_change_nothing(rep_client, rep, by_name, data):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    payload = {"version": deal.version, **data}
    response = rep_client.post(reverse("deal_move", args=[deal.pk]), payload, **HTMX)
    assert response.status_code == 400
    deal.refresh_from_db()
    assert (deal.stage, deal.status, deal.version) == (by_name["Qualify"], "open", 1)
    assert deal.stage_changes.count() == 1


def test_a_stage_of_another_pipeline_is_400(rep_client, rep, by_name):
    from tests.factories import StageFactory

    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    response = post_move(rep_client, deal, stage=StageFactory().pk)
    assert response.status_code == 400
    assert "another pipeline" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == by_name["Qualify"]


def test_moving_needs_post(rep_client, rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    assert rep_client.get(reverse("deal_move", args=[deal.pk])).status_code == 405


# ---- Quick add ----------------------------------------------------------------------------


def quick_add_url(stage):
    return reverse("deal_quick_add", args=[stage.pipeline_id, stage.pk])


def test_quick_add_creates_a_deal_on_top_of_the_column_with_a_new_organization(
    rep_client, rep, by_name
):
    stage = by_name["Prospect"]
    assert rep_client.get(quick_add_url(stage), **HTMX).status_code == 200
    response = rep_client.post(
        quick_add_url(stage),
        {
            "title": "New logo",
            "value": "2500",
            "currency": "usd",
            "organization_name": "Kestrel Labs",
        },
        **HTMX,
    )
    assert response.status_code == 200
    deal = Deal.objects.get(title="New logo")
    assert (deal.stage, deal.owner, deal.currency, deal.value) == (
        stage,
        rep,
        "USD",
        Decimal("2500"),
    )
    assert deal.organization.name == "Kestrel Labs"
    assert deal.stage_changes.get().kind == StageChange.Kind.CREATED
    assert f'data-deal-id="{deal.pk}"' in response.content.decode()


def test_quick_add_picks_an_existing_organization_by_id(rep_client, by_name):
    org = OrganizationFactory(name="Existing Co")
    rep_client.post(
        quick_add_url(by_name["Prospect"]),
        {
            "title": "Upsell",
            "value": "0",
            "currency": "EUR",
            "organization_id": org.pk,
            "organization_name": "Existing Co",
        },
        **HTMX,
    )
    assert Deal.objects.get(title="Upsell").organization == org
    assert Organization.objects.filter(name="Existing Co").count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"title": "", "value": "1", "currency": "EUR"},
        {"title": "x" * 201, "value": "1", "currency": "EUR"},
        {"title": "Neg", "value": "-5", "currency": "EUR"},
        {"title": "Cur", "value": "5", "currency": "EURO"},
        {"title": "Org", "value": "5", "currency": "EUR", "organization_id": "999999"},
        {"title": "Big", "value": "1e20", "currency": "EUR"},
    ],
)
def test_quick_add_with_bad_input_is_422_and_creates_nothing(rep_client, by_name, data):
    response = rep_client.post(quick_add_url(by_name["Prospect"]), data, **HTMX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#quick-add-body"
    assert Deal.objects.count() == 0
    assert Organization.objects.count() == 0


def test_quick_add_into_the_won_stage_is_404(rep_client, by_name):
    assert rep_client.get(quick_add_url(by_name["Follow-up"])).status_code == 404


# ---- Polling for other people's changes ------------------------------------------------------


def test_an_idle_board_poll_answers_204_cheaply(rep_client, rep, by_name, default_pipeline):
    deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    html = rep_client.get("/").content.decode()
    stamp = re.search(r"stamp=([0-9.]+)", html).group(1)
    url = reverse("board_changes", args=[default_pipeline.pk])
    with count_statements() as statements:
        response = rep_client.get(url, {"stamp": stamp}, **HTMX)
    assert response.status_code == 204
    assert len(statements) <= 3


def test_a_change_by_someone_else_makes_the_poll_return_fresh_columns(
    client, rep, manager, by_name, default_pipeline
):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])
    client.force_login(rep)
    html = client.get("/").content.decode()
    stamp = re.search(r"stamp=([0-9.]+)", html).group(1)
    deal.refresh_from_db()
    deal_move(actor=manager, deal_id=deal.pk, version=deal.version, stage_id=by_name["Proposal"].pk)
    response = client.get(
        reverse("board_changes", args=[default_pipeline.pk]), {"stamp": stamp}, **HTMX
    )
    assert response.status_code == 200
    proposal = response.content.decode()
    proposal = proposal[proposal.index(f'id="cards-{by_name["Proposal"].pk}"') :]
    assert f'data-deal-id="{deal.pk}"' in proposal[: proposal.index("</ol>")]
