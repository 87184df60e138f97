"""Hardening: a strict Content-Security-Policy, security headers, sign-in throttling."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def test_pages_carry_a_csp_without_inline_scripts_and_the_security_headers(client, rep):
    client.force_login(rep)
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_our_pages_contain_no_inline_scripts(client, rep, default_pipeline):
    client.force_login(rep)
    for url in ["/", LOGIN, reverse("deals_lost", args=[default_pipeline.pk])]:
        html = client.get(url).content.decode()
        scripts = html.split("<script")[1:]
        assert all(part.lstrip().startswith("src=") for part in scripts), url
        assert " onclick=" not in html and " onload=" not in html


def test_sign_in_works_with_the_right_password(client, rep):
    response = client.post(LOGIN, {"username": rep.username, "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, rep):
    for _ in range(4):
        response = client.post(LOGIN, {"username": rep.username, "password": "wrong"})
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    assert client.post(LOGIN, {"username": rep.username, "password": "wrong"}).status_code == 429
    locked = client.post(LOGIN, {"username": rep.username, "password": "correct-horse-battery"})
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_of_one_user_does_not_lock_another(client, rep, other_rep):
    for _ in range(6):
        client.post(LOGIN, {"username": rep.username, "password": "wrong"})
    response = client.post(
        LOGIN, {"username": other_rep.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
