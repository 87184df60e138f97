"""The Celery application. Broker and options come from ``crm.settings`` (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if app.conf.broker_url.startswith("filesystem://"):
    # kombu's file-system transport expects its folders to exist.
    for folder in {
        app.conf.broker_transport_options["data_folder_in"],
        app.conf.broker_transport_options["processed_folder"],
    }:
        os.makedirs(folder, exist_ok=True)
