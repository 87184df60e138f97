"""The shared address book: lists with search and pages, detail pages, create and edit."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Contact, Organization
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_creating_a_contact_makes_the_creator_its_owner(client, rep):
    org = OrganizationFactory(name="Acme")
    client.force_login(rep)
    response = client.post(
        reverse("contact_new"),
        {"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.test", "organization": org.pk},
    )
    contact = Contact.objects.get(first_name="Ann")
    assert response.status_code == 302 and response["Location"] == reverse(
        "contact_detail", args=[contact.pk]
    )
    assert contact.owner == rep and contact.organization == org


@pytest.mark.parametrize(
    "data",
    [
        {"first_name": "  "},
        {"first_name": "Ann", "email": "not-an-email"},
        {"first_name": "Ann", "organization": "999999"},
        {"first_name": "x" * 101},
    ],
)
def test_bad_contact_input_is_refused_next_to_the_field_and_saves_nothing(client, rep, data):
    client.force_login(rep)
    response = client.post(reverse("contact_new"), data)
    assert response.status_code == 422
    assert response.context["form"].errors
    assert 'class="field-error"' in response.content.decode()
    assert not Contact.objects.exists()


def test_a_bad_edit_leaves_the_contact_as_it_was(client, rep):
    contact = ContactFactory(owner=rep, first_name="Ann", email="ann@acme.test")
    client.force_login(rep)
    response = client.post(
        reverse("contact_edit", args=[contact.pk]), {"first_name": "Bea", "email": "nope"}
    )
    assert response.status_code == 422
    contact.refresh_from_db()
    assert contact.first_name == "Ann" and contact.email == "ann@acme.test"


def test_organizations_are_created_and_edited(client, rep):
    client.force_login(rep)
    assert client.post(reverse("organization_new"), {"name": " "}).status_code == 422
    response = client.post(reverse("organization_new"), {"name": "Acme", "website": "acme.test"})
    org = Organization.objects.get()
    assert response.status_code == 302 and org.owner == rep
    assert org.website == "https://acme.test"
    edit = client.post(reverse("organization_edit", args=[org.pk]), {"name": "Acme Ltd"})
    assert edit.status_code == 302
    org.refresh_from_db()
    assert org.name == "Acme Ltd"


def test_wrong_methods_are_refused(client, rep):
    contact = ContactFactory(owner=rep)
    client.force_login(rep)
    assert client.post(reverse("contacts")).status_code == 405
    assert client.put(reverse("contact_edit", args=[contact.pk])).status_code == 405
    assert client.get(reverse("contact_detail", args=[999999])).status_code == 404


def test_the_contact_list_searches_and_pages(client, rep):
    ContactFactory(first_name="Zelda", last_name="Quinn", owner=rep)
    ContactFactory.create_batch(3)
    client.force_login(rep)
    page = client.get(reverse("contacts"), {"q": "zel"}).content.decode()
    assert "Zelda Quinn" in page
    assert client.get(reverse("contacts"), {"page": "999"}).status_code == 200
    assert client.get(reverse("contacts"), {"page": "x"}).status_code == 200
    empty = client.get(reverse("contacts"), {"q": "nobody-here"}).content.decode()
    assert "No contacts match" in empty


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["contacts", "organizations"])
def test_the_lists_cost_the_same_queries_at_two_sizes(client, rep, name):
    ContactFactory.create_batch(3, owner=rep)
    client.force_login(rep)
    client.get(reverse(name))
    small = _queries(client, reverse(name))
    ContactFactory.create_batch(30, owner=rep)
    assert _queries(client, reverse(name)) == small
