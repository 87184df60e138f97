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

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import AuditEntry, Team, User
from crm.models import Contact, Organization
from pipeline import metrics
from pipeline.models import Activity, Deal, Notification, Pipeline, Stage, StageChange
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
        for user in (admin, rep):
            for method in ("get", "post"):
                client.force_login(user)
                response = fetch(client, method, url)
                if response.status_code >= 500:
                    problems.append((user.username, method, url, response.content[:200]))
    assert problems == []
