"""The production-shaped stack: what docker-compose runs, run here for real.

Docker does not run on CI machines, so these tests read docker-compose.yml and start the
same commands it names (gunicorn, a Celery worker's app) with the same environment shape.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_describes_postgres_redis_web_worker_and_beat():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(SERVICES)


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker"])
def test_long_running_services_have_health_checks(name):
    assert SERVICES[name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", ["web", "worker", "beat", "migrate"])
def test_app_services_share_the_environment_and_wait_for_their_dependencies(name):
    service = SERVICES[name]
    env = service["environment"]
    assert env["DEBUG"] == "false"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert "SECRET_KEY" in env and "ALLOWED_HOSTS" in env


def test_web_runs_gunicorn_on_the_wsgi_application_and_workers_run_the_crm_celery_app():
    assert SERVICES["web"]["command"][:2] == ["gunicorn", "crm.wsgi:application"]
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "crm", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "crm", "beat"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def get(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    """One request; redirects are answers to check, not to follow."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with OPENER.open(request, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def database_url_for_subprocess(tmp_path: Path) -> str:
    """The test database on PostgreSQL (schema only is needed); a migrated file on SQLite."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        return (
            f"postgres://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}"
            f"/{settings['NAME']}"
        )
    return f"sqlite:///{tmp_path / 'deploy.sqlite3'}"


def web_errors(process: subprocess.Popen) -> str:
    process.terminate()
    return process.communicate(timeout=10)[1].decode()


@pytest.fixture
def production_env(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():
        database_url = database_url_for_subprocess(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "CRM_TESTING"}
    env.update(
        DEBUG="false",
        SECRET_KEY="deployment-test-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=database_url,
    )
    if database_url.startswith("sqlite"):
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    return env


@pytest.mark.django_db
def test_gunicorn_serves_pages_health_and_static_files_with_production_settings(
    production_env,
):
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
    )
    assert collect.returncode == 0, collect.stderr
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "crm.wsgi:application", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=production_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                status, body, _ = get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200, body
        https = {"X-Forwarded-Proto": "https"}
        status, body, headers = get(f"{base}/accounts/login/", https)
        assert status == 200, web_errors(web)
        assert b"csrfmiddlewaretoken" in body
        assert headers.get("Strict-Transport-Security")
        assert headers.get("X-Content-Type-Options") == "nosniff"
        status, _, _ = get(f"{base}/accounts/login/")
        assert status == 301, "plain HTTP is redirected to HTTPS in production"
        status, css, headers = get(f"{base}/static/css/app.css", https)
        assert status == 200 and b"--" in css
        status, js, headers = get(f"{base}/static/vendor/htmx/htmx.min.js", https)
        assert status == 200 and b"htmx" in js
        status, _, _ = get(f"{base}/", https)
        assert status == 302, "anonymous visitors are sent to the login page"
    finally:
        web.terminate()
        web.wait(timeout=10)
