"""Each user's profile, password change and password reset by email."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_profile_saves_name_zone_and_notification_settings(client, rep):
    client.force_login(rep)
    assert client.get(reverse("accounts:profile")).status_code == 200
    response = client.post(
        reverse("accounts:profile"),
        {
            "first_name": "Rita",
            "last_name": "Rose",
            "email": "rita@example.com",
            "time_zone": "Europe/Berlin",
            "reminder_lead_minutes": "30",
            "email_reminders": "on",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.last_name, rep.time_zone, rep.reminder_lead_minutes) == (
        "Rose",
        "Europe/Berlin",
        30,
    )
    assert rep.email_reminders and not rep.email_aging_alerts and not rep.email_digest


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus"),
        ("reminder_lead_minutes", "-5"),
        ("reminder_lead_minutes", "999999"),
        ("email", "taken@example.com"),
        ("first_name", ""),
    ],
)
def test_bad_profile_input_changes_nothing(client, rep, field, value):
    UserFactory(email="taken@example.com")
    client.force_login(rep)
    data = {
        "first_name": "Changed",
        "last_name": "Rep",
        "email": "rita@example.com",
        "time_zone": "UTC",
        "reminder_lead_minutes": "15",
    }
    data[field] = value
    response = client.post(reverse("accounts:profile"), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    rep.refresh_from_db()
    assert rep.first_name == "Rita"
    assert "Rita Rep" in response.content.decode()  # the header keeps the saved name


def test_changing_the_password_needs_the_old_one(client, rep):
    client.force_login(rep)
    bad = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "wrong",
            "new_password1": "n3w-long-pass!",
            "new_password2": "n3w-long-pass!",
        },
    )
    assert bad.status_code == 422
    good = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "n3w-long-pass!",
            "new_password2": "n3w-long-pass!",
        },
    )
    assert good.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("n3w-long-pass!")


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, rep):
    known = client.post(reverse("accounts:password_reset"), {"email": rep.email})
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1
    assert "http://127.0.0.1:8000/accounts/password/reset/" in mail.outbox[0].body


def test_the_reset_pages_are_open_to_anonymous_visitors(client):
    for name in ("accounts:password_reset", "accounts:password_reset_done"):
        assert client.get(reverse(name)).status_code == 200
    bad_link = client.get(reverse("accounts:password_reset_confirm", args=["MQ", "bad-token"]))
    assert bad_link.status_code == 200 and "no longer works" in bad_link.content.decode()


def test_the_header_links_to_the_profile(client, rep):
    client.force_login(rep)
    assert reverse("accounts:profile") in client.get(reverse("contacts")).content.decode()


def test_reset_emails_to_one_address_are_limited_per_hour(client, rep):
    answers = {
        client.post(reverse("accounts:password_reset"), {"email": rep.email})["Location"]
        for _ in range(5)
    }
    assert answers == {reverse("accounts:password_reset_done")}
    assert len(mail.outbox) == 3
