"""The Celery application. Broker and options come from ``crm.settings`` (CELERY_*)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The schedule lives here, in code, reviewed like code (docs/reminders.md). Run exactly one
# beat; every task is safe to run late, again or in parallel, since each claims its work in
# the database. ``expires`` drops runs that queued up while no worker was listening.
app.conf.beat_schedule = {
    "reminders": {
        "task": "pipeline.tasks.send_reminders",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "aging-alerts": {
        "task": "pipeline.tasks.send_aging_alerts",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    "digests": {
        "task": "pipeline.tasks.send_digests",
        "schedule": crontab(minute=5),
        "options": {"expires": 50 * 60},
    },
    "notification-emails": {
        "task": "pipeline.tasks.send_notification_emails",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
}

if app.conf.broker_url.startswith("filesystem://"):
    # kombu's file-system transport expects its folders to exist.
    for folder in {
        app.conf.broker_transport_options["data_folder_in"],
        app.conf.broker_transport_options["processed_folder"],
        app.conf.broker_transport_options["control_folder"],
    }:
        os.makedirs(folder, exist_ok=True)
