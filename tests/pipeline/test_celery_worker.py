"""A real Celery worker against the real Redis: a due activity gives one notification and
one email, even when the task is queued twice.

The worker runs as a subprocess on the test database (data committed by ``transactional_db``)
and a queue of its own, so no other worker on the same Redis takes the test's tasks. Skipped
without REDIS_URL locally; in CI (CI=true) a missing Redis is a failure.
"""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from pipeline import tasks
from pipeline.models import Notification
from pipeline.services import activity_create, deal_create

pytestmark = pytest.mark.celery_worker

WAIT_SECONDS = 60


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        pytest.skip("A worker in another process needs a database server, not in-memory SQLite.")
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, tmp_path):
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the real-worker test: set REDIS_URL.")
        pytest.skip("Set REDIS_URL to run a real Celery worker.")
    queue = f"test-reminders-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    env = {key: value for key, value in os.environ.items() if key != "CRM_TESTING"}
    env.update(
        DATABASE_URL=database_url(),
        DB_CONN_MAX_AGE="0",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        SITE_URL="https://crm.example.com",
    )
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo",
            "--queues", queue, "--hostname", f"{queue}@%h", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield queue, mail_dir, tmp_path / "worker.log"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        print((tmp_path / "worker.log").read_text()[-4000:])


def emails_in(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    messages = []
    for path in folder.iterdir():
        messages += path.read_text().split("Subject: ")[1:]
    return messages


def test_a_real_worker_sends_one_notification_and_one_email_for_a_due_activity(
    worker, rep, by_name
):
    queue, mail_dir, log = worker
    deal = deal_create(actor=rep, title="Acme renewal", stage=by_name["Qualify"])
    activity = activity_create(
        actor=rep,
        deal=deal,
        kind="call",
        subject="Pricing call",
        due_at=timezone.now() + dt.timedelta(minutes=5),
        assignee=rep,
    )
    # Beat firing twice (or a redelivered message) must not remind twice.
    tasks.send_reminders.apply_async(queue=queue)
    tasks.send_reminders.apply_async(queue=queue)

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if log.read_text().count("succeeded in") >= 2:
            break
        time.sleep(0.25)
    else:
        pytest.fail("The worker did not finish both tasks within a minute (see its log below).")

    notification = Notification.objects.get()
    assert (notification.user, notification.activity_id) == (rep, activity.pk)
    emails = emails_in(mail_dir)
    assert len(emails) == 1
    assert emails[0].startswith("Reminder: Pricing call")
    assert f"https://crm.example.com/deals/{deal.pk}/#activity-{activity.pk}" in emails[0]
