"""Settings boot with embedded defaults and refuse unsafe production configurations.

Each case imports the settings module in a fresh interpreter, so the environment of the
test run (which may point at PostgreSQL and Redis) does not leak in.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60,
    "ALLOWED_HOSTS": "crm.example.com",
}


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    clean.pop("CRM_TESTING", None)
    clean.update(env)
    code = (
        "import json, crm.settings as s;"
        "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'],"
        " 'name': str(s.DATABASES['default']['NAME']), 'broker': s.CELERY_BROKER_URL,"
        " 'debug': s.DEBUG, 'secure_cookies': getattr(s, 'SESSION_COOKIE_SECURE', False),"
        " 'static': s.STORAGES['staticfiles']['BACKEND']}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def settings_json(**env: str) -> dict:
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_environment_the_app_uses_a_sqlite_file_and_a_serverless_broker():
    values = settings_json()
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("db.sqlite3")
    assert values["broker"] == "filesystem://"
    assert values["debug"] is True


def test_database_and_redis_urls_switch_to_postgresql_and_redis():
    values = settings_json(
        DATABASE_URL="postgres://crm:secret@db.internal:5432/crm", REDIS_URL="redis://cache:6379/0"
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "crm"
    assert values["broker"] == "redis://cache:6379/0"


def test_production_settings_use_secure_cookies_and_hashed_static_files():
    values = settings_json(**PRODUCTION)
    assert values["debug"] is False
    assert values["secure_cookies"] is True
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_debug_off_refuses_to_boot_without_secret_key_or_allowed_hosts(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = load_settings(**env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_a_short_secret_key_is_refused_in_production():
    result = load_settings(**{**PRODUCTION, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_malformed_boolean_fails_loudly():
    result = load_settings(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr
