"""The notification bell, the list, and marking notifications read."""

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Notification
from tests.factories import DealFactory, NotificationFactory
from tests.queries import count_statements

pytestmark = pytest.mark.django_db


def badge(client) -> str:
    return client.get(reverse("notifications_badge")).content.decode()


def test_the_header_loads_the_bell_without_a_query_of_its_own(client, rep):
    client.force_login(rep)
    html = client.get(reverse("my_activities")).content.decode()
    assert 'hx-get="/notifications/badge"' in html
    assert 'hx-trigger="load, every 30s"' in html


def test_the_badge_counts_unread_notifications_only(client, rep, other_rep):
    NotificationFactory.create_batch(3, user=rep)
    NotificationFactory(user=rep, read_at=timezone.now())
    NotificationFactory(user=other_rep)
    client.force_login(rep)
    html = badge(client)
    assert ">3</span>" in html and "3 unread" in html
    assert 'hx-trigger="every 30s"' in html


def test_the_badge_is_empty_with_nothing_unread(client, rep):
    client.force_login(rep)
    html = badge(client)
    assert "unread" not in html
    assert 'class="app-bell-count"' in html


@pytest.mark.parametrize("size", [1, 40])
def test_the_badge_costs_one_query_however_many_notifications(client, rep, size):
    NotificationFactory.create_batch(size, user=rep)
    client.force_login(rep)
    client.get(reverse("notifications_badge"))  # warm the session cache
    with count_statements() as statements:
        client.get(reverse("notifications_badge"))
    notification_queries = [sql for sql in statements if "pipeline_notification" in sql]
    assert len(notification_queries) == 1
    assert len(statements) <= 3  # session, user, count


@pytest.mark.parametrize("size", [1, 30])
def test_the_list_costs_the_same_queries_at_any_size(
    client, rep, size, django_assert_max_num_queries
):
    NotificationFactory.create_batch(size, user=rep, deal=DealFactory(owner=rep))
    client.force_login(rep)
    client.get(reverse("notifications"))
    with count_statements() as statements:
        client.get(reverse("notifications"))
    assert len([sql for sql in statements if "pipeline_notification" in sql]) == 1


def test_the_list_shows_each_notification_with_its_link(client, rep, other_rep):
    deal = DealFactory(owner=rep)
    NotificationFactory(user=rep, text="Deal rots", link=f"/deals/{deal.pk}/", kind="aging")
    NotificationFactory(user=other_rep, text="Not yours")
    client.force_login(rep)
    html = client.get(reverse("notifications")).content.decode()
    read_url = reverse("notification_read", args=[Notification.objects.get(user=rep).pk])
    assert f'<a href="/deals/{deal.pk}/" data-read-url="{read_url}">Deal rots</a>' in html
    assert "Rotting deal" in html
    assert "Not yours" not in html
    assert "1 unread." in html


def test_the_empty_list_says_what_will_appear(client, rep):
    client.force_login(rep)
    html = client.get(reverse("notifications")).content.decode()
    assert "No notifications yet" in html


def test_marking_one_read(client, rep):
    notification = NotificationFactory(user=rep)
    client.force_login(rep)
    response = client.post(reverse("notification_read", args=[notification.pk]))
    assert response.status_code == 302
    notification.refresh_from_db()
    first = notification.read_at
    assert first is not None
    # A repeat changes nothing.
    assert client.post(reverse("notification_read", args=[notification.pk])).status_code == 302
    notification.refresh_from_db()
    assert notification.read_at == first


def test_marking_read_needs_post(client, rep):
    notification = NotificationFactory(user=rep)
    client.force_login(rep)
    assert client.get(reverse("notification_read", args=[notification.pk])).status_code == 405
    assert client.get(reverse("notifications_read_all")).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_someone_elses_notification_is_404_and_stays_unread(client, rep, manager):
    notification = NotificationFactory(user=rep)
    client.force_login(manager)
    assert client.post(reverse("notification_read", args=[notification.pk])).status_code == 404
    assert client.post(reverse("notification_read", args=[999999])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_all_read_touches_only_mine(client, rep, other_rep):
    NotificationFactory.create_batch(3, user=rep)
    theirs = NotificationFactory(user=other_rep)
    client.force_login(rep)
    assert client.post(reverse("notifications_read_all")).status_code == 302
    assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "unread" not in badge(client)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("notifications_badge"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_script_marking_one_read_gets_no_page_back(client, rep):
    notification = NotificationFactory(user=rep)
    client.force_login(rep)
    url = reverse("notification_read", args=[notification.pk])
    assert client.generic("POST", url).status_code == 204  # no form body: a script
    notification.refresh_from_db()
    assert notification.read_at is not None
