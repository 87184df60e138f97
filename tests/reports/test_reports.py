"""The reports page and its CSV exports: roles, parameters, CSV = page, query counts."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from pipeline.services import deal_create, deal_move
from reports import selectors as metrics
from tests.factories import DealFactory
from tests.queries import count_statements
from tests.reports import stage_history

pytestmark = pytest.mark.django_db

Q2 = {"period": "custom", "start": "2026-04-01", "end": "2026-06-30"}


@pytest.fixture
def history(rep, other_rep, outsider):
    return stage_history.build(rep, other_rep, outsider)


def get(client, user, path="reports", params=None, **kwargs):
    client.force_login(user)
    url = reverse(path, kwargs=kwargs) if kwargs else reverse(path)
    return client.get(url, params or {})


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def params(history, **extra):
    return {**Q2, "pipeline": history.pipeline.pk, **extra}


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("reports"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    response = client.get(reverse("reports_csv", args=["reps"]))
    assert response.status_code == 302


def test_every_signed_in_user_finds_reports_in_the_navigation(client, rep):
    client.force_login(rep)
    response = client.get("/")
    assert f'href="{reverse("reports")}"' in response.content.decode()


def test_a_manager_sees_their_team_and_not_other_teams(client, manager, history):
    response = get(client, manager, params=params(history))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rita Rep" in page and "Oscar Other" in page
    assert "Olga Outsider" not in page


def test_a_managers_team_parameter_for_another_team_is_ignored(client, manager, outsider, history):
    response = get(client, manager, params=params(history, team=outsider.team_id))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Olga Outsider" not in page and "Rita Rep" in page
    rows = csv_rows(
        get(client, manager, "reports_csv", params(history, team=outsider.team_id), table="reps")
    )
    assert [r[0] for r in rows[1:]] == ["Oscar Other", "Rita Rep", "Team total"]


def test_a_rep_sees_only_themselves(client, rep, history):
    rows = csv_rows(get(client, rep, "reports_csv", params(history), table="reps"))
    assert [r[0] for r in rows[1:]] == ["Rita Rep", "Team total"]
    page = get(client, rep, params=params(history)).content.decode()
    assert "Oscar Other" not in page and "Olga Outsider" not in page


def test_an_admin_sees_everyone_and_filters_by_team(client, admin, outsider, history):
    rows = csv_rows(get(client, admin, "reports_csv", params(history), table="reps"))
    assert [r[0] for r in rows[1:]] == ["Olga Outsider", "Oscar Other", "Rita Rep", "Team total"]
    west = csv_rows(
        get(client, admin, "reports_csv", params(history, team=outsider.team_id), table="reps")
    )
    assert [r[0] for r in west[1:]] == ["Olga Outsider", "Team total"]


def test_the_csv_holds_the_numbers_the_page_shows(client, manager, history):
    report = metrics.stage_report(
        user=manager,
        pipeline=history.pipeline,
        period=metrics.Period("custom", stage_history.FIRST_DAY, stage_history.LAST_DAY, dt.UTC),
    )
    page = get(client, manager, params=params(history)).content.decode()
    for table in metrics.TABLES:
        rows = csv_rows(get(client, manager, "reports_csv", params(history), table=table))
        header, expected = metrics.table(report, table)
        assert rows == [header, *expected], table
    stages = csv_rows(get(client, manager, "reports_csv", params(history), table="stages"))
    offer_total = next(r for r in stages if r[0] == "Offer" and r[1] == "Team total")
    # Entered 5, moved on 1, lost 1, conversion 20 %, median 31 days, mean 37.4 days.
    assert offer_total[2:5] == ["5", "1", "1"]
    assert offer_total[8:11] == ["20.0", "31.0", "37.4"]
    for text in ("20.0 %", "31.0", "37.4"):
        assert text in page
    reps = csv_rows(get(client, manager, "reports_csv", params(history), table="reps"))
    assert reps[-1][7] == "50.0" and reps[-1][10] == "33.33"
    assert "50.0 %" in page


def test_every_chart_has_its_numbers_as_a_table_and_the_formulas_are_stated(
    client, manager, history
):
    page = get(client, manager, params=params(history)).content.decode()
    assert page.count('<svg class="bar"') == 4 + 2  # funnel bars and forecast bars
    assert "Funnel numbers" in page and "Forecast numbers" in page
    assert "Open deals × average deal × win rate ÷ sales cycle days" in page
    assert "style=" not in page and "<script>" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "custom", "start": "2026-05-01", "end": "2026-04-01"}, "not be after"),
        ({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, "three years"),
        ({"period": "custom", "start": "yesterday", "end": "2026-01-01"}, "valid date"),
        ({"period": "custom", "start": "2026-01-01"}, "needs a first and a last day"),
        ({"period": "custom", "start": "2999-01-01", "end": "2999-02-01"}, "future"),
        ({"period": "decade"}, "valid choice"),
        ({"pipeline": "99999"}, "no such pipeline"),
        ({"pipeline": "abc"}, "no such pipeline"),
    ],
)
def test_bad_parameters_answer_400_with_the_reason(client, manager, query, message):
    response = get(client, manager, params=query)
    assert response.status_code == 400
    assert message in response.content.decode()
    response = get(client, manager, "reports_csv", query, table="stages")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_an_unknown_team_or_table_is_refused(client, admin):
    assert get(client, admin, params={"team": "99999"}).status_code == 400
    assert get(client, admin, "reports_csv", {}, table="secrets").status_code == 404


def test_the_page_explains_what_to_do_when_nobody_has_deals(client, manager):
    response = get(client, manager)
    assert response.status_code == 200
    assert "No deal spent time in this pipeline during the period" in response.content.decode()


def _grow(owner, stages, count):
    """Deals with real history through the services: created, moved twice, some lost."""
    for index in range(count):
        deal = deal_create(actor=owner, title=f"Grown {index}", stage=stages[0], value=Decimal(500))
        for stage in stages[1:3]:
            deal = deal_move(
                actor=owner, deal_id=deal.pk, version=deal.version, stage_id=stage.pk
            ).deal
        if index % 2:
            deal_move(
                actor=owner, deal_id=deal.pk, version=deal.version, outcome="lost",
                lost_reason="Budget",
            )  # fmt: skip


def test_the_number_of_queries_does_not_grow_with_the_data(client, manager, rep, stages):
    client.force_login(manager)
    url = reverse("reports")
    _grow(rep, stages, 3)
    with count_statements() as small:
        assert client.get(url).status_code == 200
    _grow(rep, stages, 30)
    DealFactory.create_batch(5, owner=rep, stage=stages[3])
    with count_statements() as large:
        assert client.get(url).status_code == 200
    assert len(small) == len(large)
    with count_statements() as small_csv:
        client.get(reverse("reports_csv", args=["stages"]))
    assert len(small_csv) <= len(large)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the report cache runs on PostgreSQL only: its data stamp is a PostgreSQL query "
    "(on SQLite every view is computed afresh)",
)
def test_a_repeat_view_is_served_from_the_cache_until_a_deal_changes(client, manager, rep, stages):
    client.force_login(manager)
    url = reverse("reports_csv", args=["reps"])
    _grow(rep, stages, 2)
    with count_statements() as first:
        before = csv_rows(client.get(url))
    with count_statements() as again:
        assert csv_rows(client.get(url)) == before
    assert len(again) < len(first)
    deal = deal_create(actor=rep, title="New one", stage=stages[0], value=Decimal(100))
    deal_move(actor=rep, deal_id=deal.pk, version=deal.version, outcome="won")
    after = csv_rows(client.get(url))
    assert int(after[-1][4]) == int(before[-1][4]) + 1  # one more won deal, at once


def test_without_postgresql_every_table_holds_the_same_figures(
    client, manager, history, monkeypatch
):
    urls = [reverse("reports_csv", args=[table]) for table in metrics.TABLES]
    client.force_login(manager)
    on_postgresql = [csv_rows(client.get(url, params(history))) for url in urls]
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the portable path, on this database
    elsewhere = [csv_rows(client.get(url, params(history))) for url in urls]
    assert elsewhere == on_postgresql
    assert get(client, manager, params=params(history)).status_code == 200
