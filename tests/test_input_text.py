"""Text the database cannot store, markup, and numbers that are not ids: a clear 4xx, never a
500, never an echo read as markup. One check (``crm.validation``) serves every form and
parameter, so these walk the search boxes, filters and name fields of every app."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import AuditEntry, Team, User
from crm.forms import ContactForm, OrganizationForm
from crm.http import form_errors_text
from crm.models import Contact, Organization
from crm.validation import RefuseUnstorableInput, parse_id, refused_characters
from pipeline.forms import ActivityForm, BoardFilterForm, MoveForm, StageAddForm
from pipeline.models import Activity, Deal, Pipeline, Stage
from pipeline.services import deal_create

pytestmark = pytest.mark.django_db

NUL = "Acme\x00 Corp"
MARKUP = "<img src=x onerror=alert(1)>"
HUGE = str(2**64)


def is_plain_refusal(response) -> bool:
    return (
        response.status_code == 400
        and response["Content-Type"].startswith("text/plain")
        and "cannot be stored" in response.content.decode()
    )


@pytest.fixture
def deal(rep, by_name):
    return deal_create(actor=rep, title="Acme", stage=by_name["Qualify"])


def searches(pipeline_id: int) -> list[tuple[str, str]]:
    """Every search box and text filter: (page, parameter)."""
    return [
        (reverse("home"), "q"),
        (reverse("home"), "owner"),
        (reverse("board", args=[pipeline_id]), "q"),
        (reverse("board_changes", args=[pipeline_id]), "q"),
        (reverse("contacts"), "q"),
        (reverse("organizations"), "q"),
        (reverse("contact_search"), "q"),
        (reverse("contact_search"), "contact_name"),
        (reverse("organization_search"), "organization_name"),
        (reverse("settings_users"), "q"),
        (reverse("settings_audit"), "q"),
        (reverse("settings_audit"), "actor"),
        (reverse("reports"), "period"),
        (reverse("deals_lost", args=[pipeline_id]), "page"),
    ]


def test_a_nul_in_any_search_box_or_filter_is_a_plain_400(client, admin, default_pipeline):
    client.force_login(admin)
    for url, name in searches(default_pipeline.pk):
        response = client.get(url, {name: NUL})
        assert is_plain_refusal(response), (url, name, response.status_code)
        assert f"the field “{name}”" in response.content.decode()


def stored() -> tuple:
    """What the name-field posts could have changed."""
    return (
        Contact.objects.count(),
        Organization.objects.count(),
        list(Pipeline.objects.values_list("name", flat=True)),
        list(Stage.objects.values_list("name", flat=True)),
        Team.objects.count(),
        User.objects.count(),
        Activity.objects.count(),
        list(Deal.objects.values_list("title", "status", "version")),
        AuditEntry.objects.count(),
    )


def test_a_nul_in_any_name_field_is_a_plain_400_and_stores_nothing(
    client, admin, deal, by_name, default_pipeline
):
    client.force_login(admin)
    posts = [
        (reverse("contact_new"), {"first_name": NUL}),
        (reverse("organization_new"), {"name": NUL}),
        (reverse("settings_pipeline_add"), {"name": NUL, "template": "empty"}),
        (reverse("settings_pipeline_rename", args=[default_pipeline.pk]), {"name": NUL}),
        (reverse("settings_stage_add", args=[default_pipeline.pk]), {"name": NUL}),
        (reverse("settings_stage_edit", args=[by_name["Qualify"].pk]), {"name": NUL}),
        (reverse("settings_team_new"), {"name": NUL}),
        (reverse("settings_user_new"), {"first_name": NUL, "username": "x", "email": "x@x.io"}),
        (reverse("accounts:profile"), {"first_name": NUL}),
        (reverse("activity_add", args=[deal.pk]), {"subject": NUL, "kind": "call"}),
        (
            reverse("deal_quick_add", args=[default_pipeline.pk, by_name["Qualify"].pk]),
            {"title": NUL},
        ),
        (reverse("deal_edit", args=[deal.pk]), {"title": NUL, "version": deal.version}),
        (
            reverse("deal_move", args=[deal.pk]),
            {"outcome": "lost", "lost_reason": NUL, "version": deal.version},
        ),
        (reverse("deal_move", args=[deal.pk]), {NUL: "1", "version": deal.version}),
    ]
    before = stored()
    for url, data in posts:
        response = client.post(url, data)
        assert is_plain_refusal(response), (url, response.status_code)
    after = stored()
    assert after == before
    admin.refresh_from_db()
    assert "\x00" not in admin.first_name


def test_a_nul_in_the_address_or_the_sign_in_form_is_a_plain_400(client):
    assert is_plain_refusal(client.get("/contacts/%00/"))
    response = client.post(reverse("accounts:login"), {"username": NUL, "password": "x"})
    assert is_plain_refusal(response)


def test_the_refusal_is_announced_to_htmx_requests(client, rep, default_pipeline):
    client.force_login(rep)
    response = client.get(reverse("home"), {"q": NUL}, HTTP_HX_REQUEST="true")
    assert is_plain_refusal(response)
    assert "crm:announce" in response["HX-Trigger"]


def test_unpaired_surrogates_are_refused_by_the_middleware_and_by_every_form(rep):
    assert refused_characters("a\x00b") and refused_characters("a\ud800b")
    assert not refused_characters("Zoë 😀 ²")
    request = RequestFactory().get("/contacts/")
    request.GET = QueryDict(mutable=True)
    request.GET["q"] = "a\udc80"
    response = RefuseUnstorableInput(lambda request: None)(request)
    assert is_plain_refusal(response)
    lone = "Acme\ud800"
    forms = [
        ContactForm({"first_name": lone}),
        OrganizationForm({"name": lone}),
        ActivityForm({"subject": lone, "kind": "call", "due_date": "2030-01-01"}, user=rep),
        StageAddForm({"name": lone, "probability": 5}),
        BoardFilterForm({"q": lone}, user=rep),
        MoveForm({"outcome": "lost", "lost_reason": lone, "version": 1}),
    ]
    for form in forms:
        assert not form.is_valid(), type(form).__name__
        assert "cannot be stored" in form_errors_text(form), type(form).__name__


def test_a_bad_board_filter_is_answered_in_plain_text_without_the_markup(
    client, admin, default_pipeline
):
    client.force_login(admin)
    for url in (reverse("home"), reverse("board_changes", args=[default_pipeline.pk])):
        for name in ("owner", "close"):
            response = client.get(url, {name: MARKUP})
            assert response.status_code == 400, (url, name)
            assert response["Content-Type"].startswith("text/plain"), (url, name)
            assert MARKUP not in response.content.decode(), (url, name)


def test_a_bad_move_field_is_never_echoed(client, rep, deal):
    client.force_login(rep)
    data = {"outcome": MARKUP, "version": deal.version}
    response = client.post(reverse("deal_move", args=[deal.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert MARKUP not in response.content.decode()
    assert MARKUP not in response["HX-Trigger"]
    page = client.post(reverse("deal_move", args=[deal.pk]), data, follow=True)
    assert MARKUP not in page.content.decode()
    assert "the value sent" in page.content.decode()


def test_form_errors_text_never_repeats_what_was_sent(rep):
    form = BoardFilterForm({"owner": MARKUP, "close": "soon"}, user=rep)
    assert not form.is_valid()
    text = form_errors_text(form)
    assert MARKUP not in text and "soon" not in text
    assert text.count("the value sent") == 2


def test_numbers_that_are_not_ids_are_refused_not_sent_to_the_database(
    client, admin, rep, by_name, default_pipeline
):
    assert parse_id("12") == 12
    assert [parse_id(text) for text in ("²", "١٢", HUGE, "0", "-3", " 4", "", None)] == [None] * 8
    client.force_login(admin)
    assert client.get(reverse("settings_audit"), {"actor": "²"}).status_code == 200
    assert client.get(reverse("settings_audit"), {"actor": HUGE}).status_code == 200
    qualify = by_name["Qualify"]
    more = reverse("column_more", args=[default_pipeline.pk, qualify.pk])
    for after in ({"after_position": "1", "after_id": HUGE}, {"after_position": HUGE + "0"}):
        assert client.get(more, {"after_id": "1", **after}).status_code == 400
    order = reverse("settings_stage_order", args=[default_pipeline.pk])
    response = client.post(order, {"stage": [HUGE]})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    deal = deal_create(actor=rep, title="Acme", stage=by_name["Proposal"])
    remove = reverse("settings_stage_remove", args=[by_name["Proposal"].pk])
    page = client.post(remove, {"target": HUGE}, follow=True)
    assert page.status_code == 200 and "Choose a stage from the list" in page.content.decode()
    assert not Stage.objects.get(pk=by_name["Proposal"].pk).is_archived
    move = reverse("deal_move", args=[deal.pk])
    for field in ("stage", "above", "version"):
        data = {"stage": qualify.pk, "version": deal.version, field: HUGE}
        response = client.post(move, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 400, field
    deal.refresh_from_db()
    assert deal.stage == by_name["Proposal"]


def test_ids_past_64_bits_in_the_address_are_404(client, admin):
    client.force_login(admin)
    for url in (
        f"/pipelines/{HUGE}/changes",
        f"/pipelines/{HUGE}/",
        f"/deals/{HUGE}/",
        f"/settings/users/{HUGE}/",
        f"/contacts/{HUGE}/",
    ):
        assert client.get(url).status_code == 404, url


def test_the_refusal_carries_the_security_headers_of_every_page(client, rep):
    client.force_login(rep)
    response = client.get("/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response["Content-Security-Policy"]
