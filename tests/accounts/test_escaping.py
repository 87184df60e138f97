"""User-supplied text is always shown as text, never run as markup."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

EVIL = "<script>alert(1)</script>"


def test_a_deal_titled_script_shows_as_text_everywhere(client, rep, stages):
    org = OrganizationFactory(name=EVIL, owner=rep)
    contact = ContactFactory(first_name=EVIL, organization=org, owner=rep)
    deal = DealFactory(title=EVIL, stage=stages[0], owner=rep, contact=contact, organization=org)
    client.force_login(rep)
    pages = [
        reverse("board", args=[deal.pipeline_id]),
        reverse("deal_detail", args=[deal.pk]),
        reverse("contacts"),
        reverse("contact_detail", args=[contact.pk]),
        reverse("organizations"),
        reverse("organization_detail", args=[org.pk]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert EVIL not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_a_name_with_markup_shows_as_text_in_the_settings(client, admin, rep):
    rep.first_name = EVIL
    rep.save()
    client.force_login(admin)
    for url in (reverse("settings_users"), reverse("settings_user", args=[rep.pk])):
        html = client.get(url).content.decode()
        assert EVIL not in html and "&lt;script&gt;" in html
