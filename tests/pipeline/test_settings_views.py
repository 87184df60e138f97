"""The settings pages for pipelines and stages: admins only, clear errors, nothing half-saved."""

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from pipeline.models import Deal, Pipeline, Stage
from pipeline.services import deal_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def mutating_urls(by_name, default_pipeline):
    stage = by_name["Proposal"]
    return [
        (reverse("settings_pipeline_add"), {"name": "Renewals", "template": "quote"}),
        (reverse("settings_pipeline_rename", args=[default_pipeline.pk]), {"name": "Hacked"}),
        (reverse("settings_pipeline_archive", args=[default_pipeline.pk]), {}),
        (
            reverse("settings_stage_add", args=[default_pipeline.pk]),
            {"name": "New", "probability": 5},
        ),
        (reverse("settings_stage_edit", args=[stage.pk]), {"name": "Renamed", "probability": 40}),
        (reverse("settings_stage_step", args=[stage.pk, "up"]), {}),
        (reverse("settings_stage_remove", args=[stage.pk]), {"target": by_name["Qualify"].pk}),
        (reverse("settings_stage_order", args=[default_pipeline.pk]), {"stage": []}),
    ]


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_only_admins_reach_the_settings_and_nothing_changes_for_others(
    client, request, who, by_name, default_pipeline
):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("settings_pipelines")).status_code == 403
    assert client.get(reverse("settings_stages", args=[default_pipeline.pk])).status_code == 403
    for url, data in mutating_urls(by_name, default_pipeline):
        assert client.post(url, data).status_code == 403, url
    assert (
        list(Stage.objects.active().order_by("position").values_list("name", flat=True))[2]
        == "Proposal"
    )
    assert Pipeline.objects.count() == 1 and not AuditEntry.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client, default_pipeline):
    response = client.get(reverse("settings_stages", args=[default_pipeline.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_settings_pages_list_pipelines_stages_and_recent_changes(
    admin_client, by_name, default_pipeline
):
    assert "Sales pipeline" in admin_client.get(reverse("settings_pipelines")).content.decode()
    admin_client.post(
        reverse("settings_stage_edit", args=[by_name["Proposal"].pk]),
        {"name": "Offer", "probability": 40, "rotting_days": 14},
    )
    html = admin_client.get(reverse("settings_stages", args=[default_pipeline.pk])).content.decode()
    assert 'value="Offer"' in html
    assert (
        "Changed stage “Offer”" in html
        or "Changed stage &ldquo;Offer&rdquo;" in html
        or "Offer" in html.split("Recent changes")[1]
    )


def test_creating_a_pipeline_from_a_template(admin_client):
    response = admin_client.post(
        reverse("settings_pipeline_add"), {"name": "Renewals", "template": "seven_step"}
    )
    pipeline = Pipeline.objects.get(name="Renewals")
    assert response["Location"] == reverse("settings_stages", args=[pipeline.pk])
    assert pipeline.stages.count() == 7


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "template": "quote"},
        {"name": "Sales pipeline", "template": "quote"},
        {"name": "X", "template": "nonsense"},
    ],
)
def test_a_bad_new_pipeline_is_422_and_creates_nothing(admin_client, data):
    assert admin_client.post(reverse("settings_pipeline_add"), data).status_code == 422
    assert Pipeline.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Qualify", "probability": 40},
        {"name": "", "probability": 40},
        {"name": "Ok", "probability": 140},
        {"name": "Ok", "probability": "abc"},
        {"name": "Ok", "probability": 40, "rotting_days": -3},
    ],
)
def test_bad_stage_edits_are_422_with_the_message_next_to_the_field(admin_client, by_name, data):
    response = admin_client.post(
        reverse("settings_stage_edit", args=[by_name["Proposal"].pk]), data
    )
    assert response.status_code == 422
    assert 'class="field-error"' in response.content.decode()
    by_name["Proposal"].refresh_from_db()
    assert (by_name["Proposal"].name, by_name["Proposal"].probability) == ("Proposal", 40)


def test_adding_a_stage_before_another(admin_client, by_name, default_pipeline):
    admin_client.post(
        reverse("settings_stage_add", args=[default_pipeline.pk]),
        {"name": "Demo", "position": 2, "probability": 30, "rotting_days": 7},
    )
    names = list(
        Stage.objects.active()
        .filter(pipeline=default_pipeline)
        .order_by("position")
        .values_list("name", flat=True)
    )
    assert names[2] == "Demo"


def test_keyboard_reorder_moves_a_stage_one_place(admin_client, by_name, default_pipeline):
    admin_client.post(reverse("settings_stage_step", args=[by_name["Qualify"].pk, "up"]))
    names = list(
        Stage.objects.active()
        .filter(pipeline=default_pipeline)
        .order_by("position")
        .values_list("name", flat=True)
    )
    assert names[:2] == ["Qualify", "Prospect"]
    assert (
        admin_client.post(
            reverse("settings_stage_step", args=[by_name["Qualify"].pk, "sideways"])
        ).status_code
        == 404
    )


def test_a_stale_drag_order_is_409_and_changes_nothing(
    admin_client, by_name, default_pipeline, stages
):
    ids = [s.pk for s in stages][:-1]
    response = admin_client.post(
        reverse("settings_stage_order", args=[default_pipeline.pk]),
        {"stage": ids},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="stage-list",
    )
    assert response.status_code == 409
    assert (
        list(Stage.objects.active().filter(pipeline=default_pipeline).order_by("position"))
        == stages
    )
    bad = admin_client.post(
        reverse("settings_stage_order", args=[default_pipeline.pk]), {"stage": ["x"]}
    )
    assert bad.status_code == 400


def test_removing_a_stage_with_deals_from_the_page(admin_client, rep, by_name):
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Proposal"])
    admin_client.post(
        reverse("settings_stage_remove", args=[by_name["Proposal"].pk]),
        {"target": by_name["Negotiation"].pk},
    )
    deal.refresh_from_db()
    assert deal.stage == by_name["Negotiation"]
    assert Stage.objects.get(pk=by_name["Proposal"].pk).is_archived
    response = admin_client.post(
        reverse("settings_stage_remove", args=[by_name["Negotiation"].pk]),
        {"target": ""},
        follow=True,
    )
    assert "Choose the stage" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).stage == by_name["Negotiation"]


def test_the_settings_link_shows_only_for_admins(client, rep, admin):
    client.force_login(rep)
    assert reverse("settings_pipelines") not in client.get("/").content.decode()
    client.force_login(admin)
    assert reverse("settings_pipelines") in client.get("/").content.decode()


def test_reordering_pipelines_is_recorded_and_listed(admin_client, admin, default_pipeline):
    from pipeline.services import pipeline_create

    renewals = pipeline_create(actor=admin, name="Renewals", template="quote")
    admin_client.post(reverse("settings_pipeline_step", args=[renewals.pk, "up"]))
    assert list(Pipeline.objects.order_by("position").values_list("name", flat=True)) == [
        "Renewals",
        "Sales pipeline",
    ]
    html = admin_client.get(reverse("settings_pipelines")).content.decode()
    assert "New pipeline order: Renewals → Sales pipeline" in html
    assert "Created pipeline" in html


def test_the_board_offers_a_pipeline_switcher_once_there_are_several(
    admin_client, admin, default_pipeline
):
    from pipeline.services import pipeline_create

    assert "switch pipeline" not in admin_client.get("/").content.decode()
    renewals = pipeline_create(actor=admin, name="Renewals", template="quote")
    html = admin_client.get("/").content.decode()
    assert "switch pipeline" in html
    assert reverse("board", args=[renewals.pk]) in html
    columns = admin_client.get(reverse("board", args=[renewals.pk])).content.decode()
    assert ">Quote</h2>" in columns
