"""Every URL of the project, walked as anonymous, rep, manager and admin.

The URLs come from the URL configuration itself, so a new page cannot escape: its keyword
arguments must be in ``KWARG_OBJECTS`` below (filled with ids of objects that belong to
someone else), or this test fails and says so. For each URL and role we GET and POST and
check: anonymous users are sent to sign in (except on the public pages); nobody ever gets a
500; settings answer 403 to non-admins; no page shows another team's deal, activity or
notification; no ``next`` parameter redirects to another site; and no POST by a rep or
manager changes anything that is not theirs.
"""

from __future__ import annotations

import importlib

import pytest
from django import forms
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import AuditEntry, Team, User
from crm.models import Contact, Organization
from pipeline.models import Activity, Deal, Notification, Pipeline, Stage, StageChange
from reports import selectors as metrics
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    DealFactory,
    NotificationFactory,
    OrganizationFactory,
    StageFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "Zanzibar"  # in everything the outsider owns that others must not see
ELSEWHERE = "https://evil.example/"  # where no redirect may ever lead

# Pages an anonymous visitor may open (everything else sends them to sign in).
PUBLIC = {
    "accounts:login",
    "accounts:logout",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "healthz",
}


def walk(patterns=None, prefix="", namespace=""):
    """(route, name, kwarg names) for every URL pattern, Django's admin and static left out."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith(("admin/", "static/", "__debug__")):
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            if route.startswith(("admin/", "static/")):
                continue
            yield route, f"{namespace}{entry.name}", list(entry.pattern.converters)


def all_urls():
    return sorted(walk())


@pytest.fixture
def world(rep, other_rep, manager, admin, outsider, other_team):
    """Someone else's objects (the outsider, in another team) plus a little of our own."""
    stage = StageFactory(name="Other stage")
    deal = DealFactory(title=f"{SECRET} deal", owner=outsider, stage=stage)
    contact = ContactFactory(first_name="Olga's", last_name="Contact", owner=outsider)
    activity = ActivityFactory(
        subject=f"{SECRET} call", deal=deal, contact=contact, assignee=outsider
    )
    notification = NotificationFactory(user=outsider, text=f"{SECRET} note")
    organization = OrganizationFactory(name="Olga's Org", owner=outsider)
    DealFactory(title="Rita's own deal", owner=rep, stage=stage)
    return {
        "pipeline_id": stage.pipeline_id,
        "stage_id": stage.pk,
        "deal_id": deal.pk,
        "activity_id": activity.pk,
        "contact_id": contact.pk,
        "organization_id": organization.pk,
        "notification_id": notification.pk,
        "user_id": outsider.pk,
        "team_id": other_team.pk,
        "direction": "up",
        "table": next(iter(metrics.TABLES)),
        "uidb64": "MQ",
        "token": "not-a-token",
    }


def url_for(name: str, kwarg_names: list[str], world: dict) -> str:
    unknown = [name for name in kwarg_names if name not in world]
    if unknown:
        pytest.fail(
            f"URL {name!r} takes {unknown}: add these keyword arguments to the map in the "
            "`world` fixture of tests/test_every_url.py (an id of an object that belongs to "
            "someone else), so the walk covers the new page."
        )
    return reverse(name, kwargs={key: world[key] for key in kwarg_names})


def snapshot(user=None) -> dict:
    """Everything a refused POST must leave as it was: all that is not ``user``'s own."""
    mine = user.pk if user is not None else None
    return {
        "deals": list(Deal.objects.exclude(owner_id=mine).order_by("pk").values()),
        "changes": StageChange.objects.exclude(deal__owner_id=mine).count(),
        "stages": list(Stage.objects.order_by("pk").values()),
        "pipelines": list(Pipeline.objects.order_by("pk").values()),
        "activities": list(Activity.objects.exclude(assignee_id=mine).order_by("pk").values()),
        "notifications": list(Notification.objects.exclude(user_id=mine).order_by("pk").values()),
        "users": list(
            User.objects.exclude(pk=mine)
            .order_by("pk")
            .values("pk", "username", "email", "role", "team", "is_active", "password")
        ),
        "my_access": list(User.objects.filter(pk=mine).values("role", "team", "is_active")),
        "teams": list(Team.objects.order_by("pk").values()),
        "contacts": list(Contact.objects.exclude(owner_id=mine).order_by("pk").values()),
        "organizations": list(Organization.objects.exclude(owner_id=mine).order_by("pk").values()),
        "audit": list(AuditEntry.objects.exclude(actor_id=mine).values_list("pk", flat=True)),
        "audit_about_access": AuditEntry.objects.filter(scope__startswith="user").count(),
    }


def payload(world: dict, user) -> dict:
    """Plausible form values for every kind of POST, so a missing check would let it through."""
    return {
        "title": "Hacked",
        "name": "Hacked",
        "first_name": "Hacked",
        "subject": "Hacked",
        "email": "hacked@example.com",
        "username": "hacked",
        "role": "admin",
        "team": world["team_id"],
        "manager": user.pk,
        "successor": user.pk,
        "owner": user.pk,
        "assignee": user.pk,
        "stage": world["stage_id"],
        "version": 1,
        "value": "1",
        "currency": "EUR",
        "kind": "call",
        "outcome": "won",
        "due_date": "2030-01-01",
        "due_time": "10:00",
        "time_zone": "UTC",
        "reminder_lead_minutes": "15",
        "probability": "50",
        "template": "empty",
        "next": ELSEWHERE,
    }


def test_the_walk_finds_the_pages_it_should():
    names = {name for _route, name, _kwargs in all_urls()}
    assert {"deal_detail", "settings_users", "contact_edit", "accounts:login"} <= names


def fetch(client, method: str, url: str, data=None):
    """The response, with a view's exception turned into the 500 a visitor would get."""
    try:
        return getattr(client, method)(url, data) if data else getattr(client, method)(url)
    except Exception as error:  # noqa: BLE001 - reported as a failure below
        return type("Crash", (), {"status_code": 500, "content": repr(error).encode()})()


def test_anonymous_visitors_are_sent_to_sign_in_everywhere_but_the_public_pages(client, world):
    login = reverse("accounts:login")
    problems = []
    for _route, name, kwargs in all_urls():
        url = url_for(name, kwargs, world)
        for method in ("get", "post"):
            response = fetch(client, method, url)
            status = response.status_code
            if (
                status >= 500
                or name not in PUBLIC
                and (status != 302 or not response["Location"].startswith(login))
            ):
                problems.append((method, url, status))
    assert problems == []


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_reps_and_managers_never_see_or_change_what_is_not_theirs(client, world, persona, request):
    user = request.getfixturevalue(persona)
    before = snapshot(user)
    problems = []
    for _route, name, kwargs in all_urls():
        url = url_for(name, kwargs, world)
        attempts = [
            ("get", None),
            ("get", {"next": ELSEWHERE}),
            ("post", None),
            ("post", payload(world, user)),
        ]
        for method, data in attempts:
            client.force_login(user)  # a POST to logout signs out
            response = fetch(client, method, url, data)
            status = response.status_code
            if status in (301, 302) and "evil.example" in response["Location"]:
                problems.append((method, url, status, "redirects to another site"))
            elif status >= 500:
                problems.append((method, url, status, response.content[:200]))
            elif name.startswith("settings_") and status not in (403, 405):
                problems.append((method, url, status, "settings must answer 403"))
            elif status == 200 and SECRET in response.content.decode(errors="replace"):
                problems.append((method, url, status, "shows someone else's data"))
    assert problems == []
    after = snapshot(user)
    assert {key for key in before if before[key] != after[key]} == set()


def test_admins_can_open_every_page_and_no_request_is_a_server_error(client, world, admin):
    problems = []
    for _route, name, kwargs in all_urls():
        url = url_for(name, kwargs, world)
        for method in ("get", "post"):
            client.force_login(admin)
            response = fetch(client, method, url)
            if response.status_code >= 500:
                problems.append((method, url, response.status_code, response.content[:200]))
    assert problems == []


def test_ids_that_do_not_exist_or_overflow_are_404_not_500(client, world, admin, rep):
    """Ids past the end of a 64-bit column must not reach the database as an error."""
    huge = {key: (2**64 if isinstance(value, int) else value) for key, value in world.items()}
    problems = []
    for _route, name, kwargs in all_urls():
        url = url_for(name, kwargs, huge)
        takes_an_id = any(isinstance(world[key], int) for key in kwargs)
        for user in (admin, rep):
            for method in ("get", "post"):
                client.force_login(user)
                response = fetch(client, method, url)
                if response.status_code >= 500 or takes_an_id and response.status_code != 404:
                    problems.append((user.username, method, url, response.content[:200]))
    assert problems == []


# ---- Hostile input: characters the database refuses, markup, dates far out of range -------------

NUL = "Olga\x00Org"
MARKUP = '<img src=x onerror="alert(1)">'
EXTREME_DAYS = ("0001-01-01", "9999-12-31")
ODD_ZONES = ("Etc/GMT+12", "Pacific/Kiritimati")
# What pages read from the query string by hand or through a filter form.
QUERY_PARAMETERS = {
    "q", "owner", "close", "rotting", "page", "stamp", "after_position", "after_id", "area",
    "actor", "state", "pipeline", "period", "start", "end", "team", "next", "context",
    "organization_name", "contact_name", "organization_id", "contact_id",
}  # fmt: skip
# Fields of Django's own account forms (sign-in, password change and reset).
AUTH_FIELDS = {"username", "password", "old_password", "new_password1", "new_password2", "email"}


FORM_MODULES = ("accounts.forms", "crm.forms", "pipeline.forms", "reports.forms")


def our_forms() -> list[type[forms.BaseForm]]:
    for module in FORM_MODULES:
        importlib.import_module(module)
    found, todo = [], [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__ in FORM_MODULES:
            found.append(cls)
    return found


def field_names(kind: type[forms.Field]) -> set[str]:
    """The names of every field of that kind in the project's forms."""
    return {
        name
        for form in our_forms()
        for name, field in form.base_fields.items()
        if isinstance(field, kind)
    }


def test_the_hostile_walk_knows_the_forms_fields():
    text, days = field_names(forms.CharField), field_names(forms.DateField)
    assert {"title", "name", "subject", "first_name", "lost_reason", "q"} <= text
    assert {"due_date", "expected_close_date", "start", "end"} <= days


def test_a_nul_in_any_field_or_parameter_is_a_plain_400_everywhere(client, world, admin):
    names = sorted(field_names(forms.CharField) | QUERY_PARAMETERS | AUTH_FIELDS)
    problems = []
    client.force_login(admin)
    for _route, url_name, kwargs in all_urls():
        url = url_for(url_name, kwargs, world)
        for name in names:
            for method in ("get", "post"):
                response = fetch(client, method, url, {name: NUL})
                content = response.content.decode(errors="replace")
                if response.status_code != 400 or "cannot be stored" not in content:
                    problems.append((method, url, name, response.status_code))
                elif not response["Content-Type"].startswith("text/plain"):
                    problems.append((method, url, name, response["Content-Type"]))
    assert problems == []


def hostile(world: dict, user, text: str, day: str) -> dict:
    """The plausible payload with every text field set to ``text`` and every date to ``day``."""
    data = payload(world, user)
    data |= dict.fromkeys(field_names(forms.CharField) - QUERY_PARAMETERS, text)
    data |= dict.fromkeys(field_names(forms.DateField), day)
    return data


def statuses(client, world, people, zone: str | None = None) -> dict:
    """The status of every page (GET without parameters) for each person."""
    found = {}
    for person in people:
        if zone:
            User.objects.filter(pk=person.pk).update(time_zone=zone)
        for _route, name, kwargs in all_urls():
            if name == "accounts:logout":
                continue
            client.force_login(person)
            url = url_for(name, kwargs, world)
            found[person.username, url] = fetch(client, "get", url).status_code
    return found


# Pages whose POST removes what the check afterwards opens (they read no text and no date).
REMOVING = {
    "settings_pipeline_archive",
    "settings_stage_remove",
    "settings_user_deactivate",
    "activity_delete",
}


def test_markup_and_far_dates_never_break_or_echo_and_every_page_still_opens_afterwards(
    client, world, rep, manager, admin
):
    people = (rep, manager, admin)
    before = statuses(client, world, people)
    problems = []
    for person in people:
        for _route, name, kwargs in all_urls():
            url = url_for(name, kwargs, world)
            attempts = [("get", dict.fromkeys(QUERY_PARAMETERS, MARKUP))]
            for day in EXTREME_DAYS:
                attempts.append(("get", {"period": "custom", "start": day, "end": day}))
                if name not in REMOVING:
                    attempts.append(("post", hostile(world, person, MARKUP, day)))
            for method, data in attempts:
                client.force_login(person)
                response = fetch(client, method, url, data)
                status = response.status_code
                echoed = MARKUP in response.content.decode(errors="replace")
                if status >= 500:
                    problems.append((person.username, method, url, status))
                elif echoed and not response["Content-Type"].startswith("text/plain"):
                    problems.append((person.username, method, url, "echoes markup as HTML"))
    assert problems == []
    # Nothing far out of range was stored, and every page that opened still opens for all.
    assert not Activity.objects.filter(due_at__year__lt=1900).exists()
    assert not Activity.objects.filter(due_at__year__gt=2200).exists()
    assert not Deal.objects.filter(expected_close_date__year__lt=1900).exists()
    assert not Deal.objects.filter(expected_close_date__year__gt=2200).exists()
    for zone in ODD_ZONES:
        after = statuses(client, world, people, zone)
        broken = {key: after[key] for key, status in before.items() if status != after[key]}
        assert broken == {}, zone
