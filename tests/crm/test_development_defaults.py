"""`make run` on another port, its worker's email log and `make bench`'s output.

Settings are imported in a fresh interpreter (tests/crm/test_settings.py explains why), here
without CRM_TESTING so the development defaults apply.
"""

import email
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from crm.mail import DevelopmentEmailBackend

ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_ENV = {"DATABASE_URL", "REDIS_URL", "DEBUG", "CRM_TESTING", "SITE_URL"}
DEVELOPMENT_ENV |= {"HOST", "PORT", "EMAIL_BACKEND"}


def development_settings(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in DEVELOPMENT_ENV}
    clean.update(env)
    code = (
        "import json, crm.settings as s;"
        "print(json.dumps({'site_url': s.SITE_URL, 'email_backend': s.EMAIL_BACKEND}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# ---- The address follows the served one ------------------------------------------------------


def test_in_development_the_site_url_follows_the_served_port():
    assert development_settings()["site_url"] == "http://127.0.0.1:8000"
    assert development_settings(PORT="8899")["site_url"] == "http://127.0.0.1:8899"
    assert development_settings(HOST="192.168.1.20", PORT="8899")["site_url"] == (
        "http://192.168.1.20:8899"
    )


def test_a_server_listening_everywhere_is_linked_through_localhost():
    assert development_settings(HOST="0.0.0.0", PORT="8899")["site_url"] == (
        "http://localhost:8899"
    )


def test_an_explicit_site_url_wins_and_production_ignores_the_port():
    explicit = development_settings(PORT="8899", SITE_URL="https://crm.example.com/")
    assert explicit["site_url"] == "https://crm.example.com"
    production = development_settings(
        DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="crm.example.com", PORT="8899"
    )
    assert production["site_url"] == "http://127.0.0.1:8000"


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_run_on_another_port_prints_and_passes_that_port_everywhere():
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8899"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    seed = next(line for line in lines if "seed_demo" in line)
    honcho = next(line for line in lines if "honcho start" in line)
    assert "PORT=8899" in seed and "PORT=8899" in honcho
    assert "8000" not in result.stdout
    assert any("http://127.0.0.1:8899/" in line for line in lines if "echo" in line)


# ---- Development email: one file and one log line per message --------------------------------


def test_development_writes_emails_as_files_unless_told_otherwise():
    assert development_settings()["email_backend"] == "crm.mail.DevelopmentEmailBackend"
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    assert development_settings(EMAIL_BACKEND=smtp)["email_backend"] == smtp
    production = development_settings(
        DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="crm.example.com"
    )
    assert production["email_backend"] == "django.core.mail.backends.console.EmailBackend"


def test_the_tests_keep_email_in_memory(settings):
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"


def test_each_email_becomes_one_file_and_one_log_line(tmp_path, caplog):
    backend = DevelopmentEmailBackend(file_path=str(tmp_path / "mail"))
    messages = [
        mail.EmailMultiAlternatives(
            f"Reminder {n}", "Call Acme.", "crm@localhost", [f"rep{n}@example.com"]
        )
        for n in (1, 2)
    ]
    messages[0].attach_alternative("<html><body><p>Call Acme.</p></body></html>", "text/html")
    with caplog.at_level(logging.INFO, logger="crm.mail"):
        assert backend.send_messages(messages) == 2
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    subjects = {email.message_from_bytes(path.read_bytes())["Subject"] for path in files}
    assert subjects == {"Reminder 1", "Reminder 2"}
    lines = [record.getMessage() for record in caplog.records if record.name == "crm.mail"]
    assert len(lines) == 2
    assert all("\n" not in line and "<html" not in line for line in lines)
    assert "rep1@example.com" in lines[0] and "Reminder 1" in lines[0]
    assert {line.rsplit(": ", 1)[1] for line in lines} == {str(path) for path in files}


def test_a_folder_that_cannot_be_written_fails_loudly_unless_told_to_be_silent(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    message = mail.EmailMessage("Hi", "Body", "crm@localhost", ["rep@example.com"])
    with pytest.raises(OSError):
        DevelopmentEmailBackend(file_path=str(blocked)).send_messages([message])
    silent = DevelopmentEmailBackend(file_path=str(blocked), fail_silently=True)
    assert silent.send_messages([message]) == 0


# ---- The benchmark's figures are not interleaved with sign-in logs ---------------------------


@pytest.fixture
def restore_logging():
    levels = {name: logging.getLogger(name).level for name in ("axes", "django")}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.django_db
def test_the_benchmark_keeps_sign_in_logs_out_of_its_figures(client, rep, caplog, restore_logging):
    from bench.__main__ import quiet_logs

    quiet_logs()
    with caplog.at_level(logging.INFO):
        client.force_login(rep)
        client.logout()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("axes")] == []
    # Warnings still get through: a benchmark that hides failures would mislead.
    logging.getLogger("axes.handlers").warning("locked out")
    assert "locked out" in caplog.text


def test_the_development_server_lets_a_whole_sales_floor_connect_at_once():
    """40 browsers dropping cards at the same moment must all be accepted, not reset."""
    from django.core.management import get_commands, load_command_class

    assert get_commands()["runserver"] == "crm"
    command = load_command_class("crm", "runserver")
    assert command.server_cls.request_queue_size >= 64
    assert "whitenoise" in type(command).__mro__[1].__module__
