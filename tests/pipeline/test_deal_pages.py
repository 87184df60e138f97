"""The deal page (stage bar, outcomes, edit, timeline) and the won and lost lists.

Activities on the page are covered in ``test_activities.py``.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from pipeline.models import Deal, StageChange
from pipeline.services import Invalid, deal_create, deal_move, deal_update
from tests.factories import ActivityFactory, DealFactory, OrganizationFactory, PipelineFactory
from tests.queries import count_statements

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep, by_name):
    return deal_create(
        actor=rep, title="Acme renewal", stage=by_name["Qualify"], value=Decimal(5000)
    )


def page(client, deal):
    return client.get(reverse("deal_detail", args=[deal.pk]))


def lose(actor, deal, reason="Price too high"):
    deal.refresh_from_db()
    deal_move(
        actor=actor, deal_id=deal.pk, version=deal.version, outcome="lost", lost_reason=reason
    )
    deal.refresh_from_db()
    return deal


# ---- Who sees the page ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
def test_the_owner_their_manager_and_admins_see_the_deal_page(client, deal, who, request):
    client.force_login(request.getfixturevalue(who))
    response = page(client, deal)
    assert response.status_code == 200
    assert "Acme renewal" in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "other_rep"])
def test_anyone_else_gets_404(client, deal, who, request):
    client.force_login(request.getfixturevalue(who))
    assert page(client, deal).status_code == 404


def test_a_missing_deal_is_404_and_the_page_needs_a_login(client, rep, deal):
    assert page(client, deal).status_code == 302  # to the login page
    client.force_login(rep)
    assert client.get(reverse("deal_detail", args=[999999])).status_code == 404


def test_the_page_shows_the_deals_facts(client, rep, deal):
    org = OrganizationFactory(name="Acme GmbH")
    Deal.objects.filter(pk=deal.pk).update(
        organization=org, expected_close_date=dt.date(2027, 1, 15), currency="EUR"
    )
    client.force_login(rep)
    html = page(client, deal).content.decode()
    assert "Acme GmbH" in html
    assert "€5,000" in html
    assert "Rita Rep" in html
    assert "15 Jan 2027" in html
    assert "In Qualify" in html
    assert ">Open<" in html


def test_a_rotting_deal_is_marked_in_words(client, rep, deal, by_name):
    rotting_days = by_name["Qualify"].rotting_days
    Deal.objects.filter(pk=deal.pk).update(
        stage_entered_at=timezone.now() - dt.timedelta(days=rotting_days + 3)
    )
    client.force_login(rep)
    html = page(client, deal).content.decode()
    assert "Rotting" in html
    assert f"{rotting_days + 3} days" in html


def test_the_page_shows_time_spent_in_each_stage_and_the_timeline(client, rep, deal, by_name):
    StageChange.objects.filter(deal=deal).update(changed_at=deal.created_at - dt.timedelta(days=9))
    deal_move(actor=rep, deal_id=deal.pk, version=deal.version, stage_id=by_name["Proposal"].pk)
    client.force_login(rep)
    html = page(client, deal).content.decode()
    assert "Moved from Qualify to <strong>Proposal</strong>" in html
    assert "after 9 days in Qualify" in html
    assert "9d" in html


def test_the_timeline_is_newest_first_and_names_who_did_it(client, rep, manager, deal, by_name):
    deal_move(actor=manager, deal_id=deal.pk, version=1, stage_id=by_name["Proposal"].pk)
    lose(rep, deal, reason="No budget this year")
    client.force_login(rep)
    html = page(client, deal).content.decode()
    timeline = html[html.index('id="timeline-title"') :]
    lost, moved, created = (
        timeline.index("<strong>Lost</strong> from Proposal: No budget this year"),
        timeline.index("Moved from Qualify to <strong>Proposal</strong>"),
        timeline.index("Created in <strong>Qualify</strong>"),
    )
    assert lost < moved < created
    assert "Max Manager" in timeline[moved:created]


# ---- The stage bar and outcomes ---------------------------------------------------------------


def move_from_page(client, deal, **data):
    deal.refresh_from_db()
    payload = {"version": deal.version, "next": reverse("deal_detail", args=[deal.pk]), **data}
    return client.post(reverse("deal_move", args=[deal.pk]), payload)


def test_the_stage_bar_offers_every_other_stage_as_a_move(client, rep, deal, stages):
    client.force_login(rep)
    html = page(client, deal).content.decode()
    for stage in stages:
        assert (f'name="stage" value="{stage.pk}"' in html) == (stage.name != "Qualify")
    assert 'aria-current="step"' in html
    assert 'name="version" value="1"' in html


def test_clicking_a_stage_in_the_stage_bar_moves_the_deal(client, rep, deal, by_name):
    client.force_login(rep)
    response = move_from_page(client, deal, stage=by_name["Negotiation"].pk)
    assert response.status_code == 302
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])
    deal.refresh_from_db()
    assert (deal.stage, deal.status, deal.version) == (by_name["Negotiation"], "open", 2)
    change = deal.stage_changes.last()
    assert (change.kind, change.from_stage, change.to_stage, change.changed_by) == (
        "stage",
        by_name["Qualify"],
        by_name["Negotiation"],
        rep,
    )
    html = client.get(response["Location"]).content.decode()
    assert "is now in Negotiation" in html


def test_a_stale_page_shows_an_error_and_changes_nothing(client, rep, manager, deal, by_name):
    client.force_login(rep)
    version = deal.version
    deal_move(actor=manager, deal_id=deal.pk, version=version, stage_id=by_name["Closing"].pk)
    history = deal.stage_changes.count()
    response = client.post(
        reverse("deal_move", args=[deal.pk]),
        {"version": version, "stage": by_name["Proposal"].pk},
        follow=True,
    )
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (by_name["Closing"], version + 1)
    assert deal.stage_changes.count() == history


def test_an_unsafe_next_url_is_ignored(client, rep, deal, by_name):
    client.force_login(rep)
    response = move_from_page(
        client, deal, stage=by_name["Proposal"].pk, next="https://evil.example/"
    )
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])


def test_an_outsider_cannot_move_the_deal_from_a_page(client, outsider, deal, by_name):
    client.force_login(outsider)
    assert move_from_page(client, deal, stage=by_name["Proposal"].pk).status_code == 404
    deal.refresh_from_db()
    assert deal.stage == by_name["Qualify"]


def test_marking_a_deal_won_from_the_page(client, rep, deal, by_name):
    client.force_login(rep)
    move_from_page(client, deal, outcome="won")
    deal.refresh_from_db()
    assert (deal.status, deal.stage) == ("won", by_name["Follow-up"])
    assert deal.closed_at is not None
    assert deal.stage_changes.last().kind == "won"


def test_losing_takes_a_typed_reason_over_the_chosen_one(client, rep, deal):
    client.force_login(rep)
    move_from_page(
        client, deal, outcome="lost", lost_reason_choice="No budget", lost_reason="frozen"
    )
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == ("lost", "frozen")
    assert deal.stage_changes.last().note == "frozen"


def test_losing_with_a_chosen_reason_only(client, rep, deal):
    client.force_login(rep)
    move_from_page(client, deal, outcome="lost", lost_reason_choice="No budget", lost_reason="")
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == ("lost", "No budget")


def test_losing_without_any_reason_is_refused(client, rep, deal):
    client.force_login(rep)
    response = move_from_page(client, deal, outcome="lost", lost_reason_choice="")
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.status == "open"
    assert "why the deal was lost" in client.get(response["Location"]).content.decode()


def test_a_lost_deal_shows_where_and_why_and_offers_a_reopen(client, rep, deal, by_name):
    lose(rep, deal, reason="Went with a competitor")
    client.force_login(rep)
    html = page(client, deal).content.decode()
    assert "Lost from Qualify:</strong> Went with a competitor" in html
    assert "Lost here" in html
    # The stage bar of a closed deal is a picture, not buttons: reopening is one deliberate form.
    assert html.count('name="stage"') == 1
    assert f'<option value="{by_name["Qualify"].pk}" selected>Qualify</option>' in html


def test_reopening_a_lost_deal_from_its_page(client, rep, deal, by_name):
    lose(rep, deal)
    client.force_login(rep)
    move_from_page(client, deal, stage=by_name["Proposal"].pk)
    deal.refresh_from_db()
    assert (deal.status, deal.stage, deal.lost_reason, deal.closed_at) == (
        "open",
        by_name["Proposal"],
        "",
        None,
    )
    change = deal.stage_changes.last()
    assert (change.kind, change.from_status, change.to_status) == ("reopened", "lost", "open")


def test_a_won_deal_offers_to_reopen_in_the_stage_it_was_won_from(client, rep, deal, by_name):
    deal_move(actor=rep, deal_id=deal.pk, version=1, stage_id=by_name["Closing"].pk)
    deal_move(actor=rep, deal_id=deal.pk, version=2, outcome="won")
    client.force_login(rep)
    html = page(client, deal).content.decode()
    assert f'<option value="{by_name["Closing"].pk}" selected>Closing</option>' in html


# ---- Editing ----------------------------------------------------------------------------------


def edit(client, deal, **changes):
    deal.refresh_from_db()
    data = {
        "version": deal.version,
        "title": deal.title,
        "value": str(deal.value),
        "currency": deal.currency,
        "expected_close_date": "",
        "owner": deal.owner_id,
        "organization_name": "",
        "contact_name": "",
        **changes,
    }
    return client.post(reverse("deal_edit", args=[deal.pk]), data)


def test_editing_saves_the_fields_and_bumps_the_version(client, rep, deal):
    client.force_login(rep)
    response = edit(
        client,
        deal,
        title="Acme 2027",
        value="7500",
        currency="usd",
        expected_close_date="2027-01-15",
        organization_name="Acme GmbH",
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.value, deal.currency, str(deal.expected_close_date)) == (
        "Acme 2027",
        Decimal("7500"),
        "USD",
        "2027-01-15",
    )
    assert deal.organization.name == "Acme GmbH"
    assert deal.version == 2
    assert "Deal saved." in client.get(response["Location"]).content.decode()


def test_editing_does_not_touch_the_stage_or_its_history(client, rep, deal, by_name):
    client.force_login(rep)
    edit(client, deal, title="Acme 2027")
    deal.refresh_from_db()
    assert (deal.stage, deal.status) == (by_name["Qualify"], "open")
    assert list(deal.stage_changes.values_list("kind", flat=True)) == ["created"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "ed-title"),
        ({"title": "x" * 201}, "ed-title"),
        ({"value": "-1"}, "ed-value"),
        ({"value": "lots"}, "ed-value"),
        ({"currency": "euro"}, "ed-currency"),
        ({"currency": "E1R"}, "ed-currency"),
        ({"expected_close_date": "31/31/2026"}, "ed-close"),
    ],
)
def test_bad_edits_are_422_with_the_error_by_the_field_and_save_nothing(
    client, rep, deal, changes, field
):
    client.force_login(rep)
    response = edit(client, deal, **changes)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="{field}-error"' in html
    assert "Nothing was saved" in html
    deal.refresh_from_db()
    assert (deal.title, deal.value, deal.currency, deal.version) == (
        "Acme renewal",
        Decimal("5000"),
        "EUR",
        1,
    )


def test_a_bad_edit_keeps_the_saved_values_in_the_page_header(client, rep, deal):
    client.force_login(rep)
    html = edit(client, deal, title="", value="-1").content.decode()
    assert '<h1 class="deal-title">Acme renewal</h1>' in html


def test_a_broken_version_field_is_refused(client, rep, deal):
    client.force_login(rep)
    response = edit(client, deal, version="x", title="Changed")
    assert response.status_code == 422
    assert "out of date" in response.content.decode()
    deal.refresh_from_db()
    assert deal.title == "Acme renewal"


def test_the_service_refuses_bad_values_whoever_calls_it(rep, deal):
    for changes, field in [
        ({"value": Decimal("-1")}, "value"),
        ({"currency": "eur"}, "currency"),
        ({"title": "  "}, "title"),
    ]:
        with pytest.raises(Invalid) as refused:
            deal_update(actor=rep, deal_id=deal.pk, version=1, **changes)
        assert field in refused.value.errors
    deal.refresh_from_db()
    assert (deal.value, deal.currency, deal.title, deal.version) == (
        Decimal("5000"),
        "EUR",
        "Acme renewal",
        1,
    )


def test_a_rep_cannot_give_a_deal_to_someone_else(client, rep, other_rep, deal):
    client.force_login(rep)
    response = edit(client, deal, owner=other_rep.pk)
    assert response.status_code == 422
    assert 'id="ed-owner-error"' in response.content.decode()
    deal.refresh_from_db()
    assert (deal.owner, deal.version) == (rep, 1)


def test_a_rep_is_only_offered_themselves_as_owner(client, rep, other_rep, deal):
    client.force_login(rep)
    html = page(client, deal).content.decode()
    owner_select = html[
        html.index('id="ed-owner"') : html.index("</select>", html.index('id="ed-owner"'))
    ]
    assert str(rep) in owner_select and str(other_rep) not in owner_select


def test_a_manager_can_reassign_within_the_team_but_not_outside(
    client, manager, other_rep, outsider, deal
):
    client.force_login(manager)
    assert edit(client, deal, owner=outsider.pk).status_code == 422
    assert edit(client, deal, owner=other_rep.pk).status_code == 302
    deal.refresh_from_db()
    assert deal.owner == other_rep


def test_an_admin_can_give_the_deal_to_anyone_active(client, admin, outsider, deal):
    client.force_login(admin)
    assert edit(client, deal, owner=outsider.pk).status_code == 302
    deal.refresh_from_db()
    assert deal.owner == outsider


def test_the_service_enforces_the_owner_rule_too(rep, other_rep, deal):
    with pytest.raises(Invalid) as refused:
        deal_update(actor=rep, deal_id=deal.pk, version=1, owner=other_rep)
    assert "owner" in refused.value.errors
    deal.refresh_from_db()
    assert deal.owner == rep


def test_a_stale_edit_is_refused(client, rep, deal, by_name):
    client.force_login(rep)
    old_version = deal.version
    deal_move(actor=rep, deal_id=deal.pk, version=old_version, stage_id=by_name["Proposal"].pk)
    response = edit(client, deal, version=old_version, title="Overwrite")
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else" in html
    assert 'value="Overwrite"' in html  # what was typed is kept, to save again on purpose
    deal.refresh_from_db()
    assert deal.title == "Acme renewal"


def test_saving_again_after_a_stale_edit_applies_it(client, rep, manager, deal, by_name):
    client.force_login(rep)
    deal_move(actor=manager, deal_id=deal.pk, version=1, stage_id=by_name["Proposal"].pk)
    html = edit(client, deal, version=1, title="Overwrite").content.decode()
    assert 'name="version" value="2"' in html
    assert edit(client, deal, version=2, title="Overwrite").status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.stage, deal.version) == ("Overwrite", by_name["Proposal"], 3)


def test_editing_needs_post_and_an_outsider_gets_404(client, outsider, deal):
    client.force_login(outsider)
    assert client.get(reverse("deal_edit", args=[deal.pk])).status_code == 405
    assert edit(client, deal, title="Mine now").status_code == 404
    deal.refresh_from_db()
    assert deal.title == "Acme renewal"


# ---- Won and lost lists -----------------------------------------------------------------------


@pytest.fixture
def lost_deals(rep, other_rep, outsider, by_name):
    """One lost deal per owner, each lost from Proposal."""
    deals = {}
    for person in (rep, other_rep, outsider):
        deal = deal_create(
            actor=person, title=f"{person.first_name}'s lost deal", stage=by_name["Proposal"]
        )
        deals[person.username] = lose(person, deal, reason=f"{person.first_name}'s reason")
    return deals


def lost_list(client, pipeline_id, **params):
    return client.get(reverse("deals_lost", args=[pipeline_id]), params)


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("rep", {"Rita"}),
        ("other_rep", {"Oscar"}),
        ("manager", {"Rita", "Oscar"}),
        ("admin", {"Rita", "Oscar", "Olga"}),
        ("outsider", {"Olga"}),
    ],
)
def test_the_lost_list_shows_the_lost_deals_each_person_may_see(
    client, default_pipeline, lost_deals, request, who, sees
):
    client.force_login(request.getfixturevalue(who))
    html = lost_list(client, default_pipeline.pk).content.decode()
    for name in ("Rita", "Oscar", "Olga"):
        assert (f"{name}&#x27;s lost deal" in html) == (name in sees)
        assert (f"{name}&#x27;s reason" in html) == (name in sees)


def test_the_won_list_shows_won_deals_only(client, rep, deal, default_pipeline, lost_deals):
    deal_move(actor=rep, deal_id=deal.pk, version=1, outcome="won")
    client.force_login(rep)
    html = client.get(reverse("deals_won", args=[default_pipeline.pk])).content.decode()
    assert "Acme renewal" in html and "lost deal" not in html
    assert "€5,000" in html or "5,000" in html


def test_the_lost_list_is_newest_first_with_stage_and_reason(client, rep, by_name):
    older = lose(rep, deal_create(actor=rep, title="Older loss", stage=by_name["Qualify"]))
    Deal.objects.filter(pk=older.pk).update(closed_at=timezone.now() - dt.timedelta(days=3))
    lose(rep, deal_create(actor=rep, title="Newer loss", stage=by_name["Closing"]), "Timing")
    client.force_login(rep)
    html = lost_list(client, by_name["Qualify"].pipeline_id).content.decode()
    assert html.index("Newer loss") < html.index("Older loss")
    assert '<td data-label="Lost from">Closing' in html
    assert '<td data-label="Reason" class="cell-reason">Timing</td>' in html


def test_reopening_from_the_lost_list_returns_to_the_list(client, rep, by_name, lost_deals):
    mine = lost_deals["rita"]
    url = reverse("deals_lost", args=[by_name["Proposal"].pipeline_id]) + "?page=1"
    client.force_login(rep)
    html = client.get(url).content.decode()
    assert f'<option value="{by_name["Proposal"].pk}" selected>Proposal</option>' in html
    response = client.post(
        reverse("deal_move", args=[mine.pk]),
        {"version": mine.version, "stage": by_name["Qualify"].pk, "next": url},
    )
    assert response["Location"] == url
    mine.refresh_from_db()
    assert (mine.status, mine.stage, mine.closed_at) == ("open", by_name["Qualify"], None)
    assert mine.stage_changes.last().kind == "reopened"
    html = client.get(url).content.decode()
    assert "“Rita&#x27;s lost deal” is now in Qualify." in html
    assert 'class="table-link">Rita&#x27;s lost deal<' not in html


def test_the_lists_have_tabs_a_way_back_and_kind_empty_states(client, rep, default_pipeline):
    client.force_login(rep)
    lost = lost_list(client, default_pipeline.pk).content.decode()
    won = client.get(reverse("deals_won", args=[default_pipeline.pk])).content.decode()
    assert "No lost deals in this pipeline — nice." in lost
    assert "No won deals yet" in won
    board = reverse("board", args=[default_pipeline.pk])
    for html in (lost, won):
        assert f'href="{board}"' in html
        assert 'aria-current="page">Won<' in won and 'aria-current="page">Lost<' in lost


def test_the_lists_page_by_fifty(client, rep, by_name):
    for _ in range(51):
        DealFactory(
            owner=rep,
            stage=by_name["Proposal"],
            status="lost",
            lost_reason="Price",
            closed_at=timezone.now(),
        )
    client.force_login(rep)
    first = lost_list(client, by_name["Proposal"].pipeline_id).content.decode()
    second = lost_list(client, by_name["Proposal"].pipeline_id, page=2).content.decode()
    assert first.count('class="cell-title"') == 50 and "Page 1 of 2" in first
    assert second.count('class="cell-title"') == 1 and "Page 2 of 2" in second


@pytest.mark.parametrize("page_number", ["abc", "-1", "0", "9999", "", "1.5"])
def test_odd_page_numbers_never_fail(client, rep, default_pipeline, lost_deals, page_number):
    client.force_login(rep)
    assert lost_list(client, default_pipeline.pk, page=page_number).status_code == 200


def test_an_archived_or_missing_pipeline_has_no_lists(client, rep):
    archived = PipelineFactory(is_archived=True)
    client.force_login(rep)
    assert lost_list(client, archived.pk).status_code == 404
    assert client.get(reverse("deals_won", args=[999999])).status_code == 404


# ---- Query counts -----------------------------------------------------------------------------


def grow_history(deal, people, stages, rows):
    """Bounce the deal between two stages, each move by someone else, with an activity each."""
    for index in range(rows):
        deal.refresh_from_db()
        target = stages[0] if deal.stage == stages[1] else stages[1]
        actor = people[index % len(people)]
        deal_move(actor=actor, deal_id=deal.pk, version=deal.version, stage_id=target.pk)
        ActivityFactory(
            deal=deal,
            assignee=actor,
            created_by=actor,
            done_at=timezone.now() if index % 2 else None,
        )


def test_the_deal_page_costs_the_same_queries_with_a_long_history(
    client, rep, manager, admin, deal, by_name
):
    people, pair = [rep, manager, admin], [by_name["Qualify"], by_name["Proposal"]]
    client.force_login(rep)
    page(client, deal)  # the session and user are loaded once per client
    grow_history(deal, people, pair, rows=3)
    with count_statements() as short:
        assert page(client, deal).status_code == 200
    grow_history(deal, people, pair, rows=27)
    with count_statements() as long:
        html = page(client, deal).content.decode()
    assert html.count("timeline-item") > 60
    assert len(short) == len(long), "\n".join(long)


def test_the_lost_list_costs_the_same_queries_at_two_sizes(
    client, rep, other_rep, manager, by_name
):
    client.force_login(manager)
    url = reverse("deals_lost", args=[by_name["Proposal"].pipeline_id])
    client.get(url)

    def lose_many(count):
        for index in range(count):
            DealFactory(
                owner=(rep, other_rep)[index % 2],
                stage=(by_name["Proposal"], by_name["Closing"])[index % 2],
                organization=OrganizationFactory(),
                status="lost",
                lost_reason="Price",
                closed_at=timezone.now(),
            )

    lose_many(5)
    with count_statements() as small:
        client.get(url)
    lose_many(55)
    with count_statements() as large:
        html = client.get(url).content.decode()
    assert "Page 1 of 2" in html
    assert len(small) == len(large), "\n".join(large)


# ---- Moving to another pipeline -----------------------------------------------------------------


def test_a_deal_moves_to_another_pipeline_from_its_page(client, admin, rep, deal):
    from pipeline.services import pipeline_create

    renewals = pipeline_create(actor=admin, name="Renewals", template="quote")
    target = renewals.stages.get(name="Quote")
    client.force_login(rep)
    assert "Renewals" in page(client, deal).content.decode()
    move_from_page(client, deal, stage=target.pk, other_pipeline="1")
    deal.refresh_from_db()
    assert (deal.pipeline, deal.stage) == (renewals, target)
    assert deal.stage_changes.last().kind == "pipeline"


def test_a_board_move_cannot_cross_pipelines(client, admin, rep, deal):
    from pipeline.services import pipeline_create

    target = pipeline_create(actor=admin, name="Renewals", template="quote").stages.first()
    client.force_login(rep)
    deal.refresh_from_db()
    response = client.post(
        reverse("deal_move", args=[deal.pk]),
        {"version": deal.version, "stage": target.pk, "other_pipeline": "1", "context": "board"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400


def test_giving_a_deal_to_another_owner_is_recorded_in_history_and_audit(
    client, manager, rep, other_rep, stages
):
    deal = DealFactory(stage=stages[0], owner=rep)
    client.force_login(manager)
    response = client.post(
        reverse("deal_edit", args=[deal.pk]),
        {
            "title": deal.title,
            "value": "1000",
            "currency": "EUR",
            "owner": other_rep.pk,
            "version": 1,
        },
    )
    assert response.status_code == 302
    change = StageChange.objects.get(deal=deal, kind="owner")
    assert (
        change.changed_by == manager and str(rep) in change.note and str(other_rep) in change.note
    )
    assert AuditEntry.objects.get(action="deal_owner_changed").scope == f"deal:{deal.pk}"
    page = client.get(reverse("deal_detail", args=[deal.pk])).content.decode()
    assert f"Owner changed from {rep} to {other_rep}" in page
    assert "Moved from Prospect to" not in page
    # Saving again with the same owner records nothing new.
    client.post(
        reverse("deal_edit", args=[deal.pk]),
        {
            "title": "New title",
            "value": "1000",
            "currency": "EUR",
            "owner": other_rep.pk,
            "version": 2,
        },
    )
    assert StageChange.objects.filter(deal=deal, kind="owner").count() == 1
