"""Celery tasks: thin wrappers that call ``pipeline.reminders``. Scheduled in crm/celery.py.

Every task may run late, twice, or on two workers at once: the services claim their work in
the database, so a repeat finds nothing left to do (docs/reminders.md).
"""

from celery import shared_task

from pipeline import reminders


@shared_task
def send_reminders() -> int:
    sent = reminders.reminders_send()
    reminders.notification_emails_send()
    return sent


@shared_task
def send_aging_alerts() -> int:
    sent = reminders.aging_alerts_send()
    reminders.notification_emails_send()
    return sent


@shared_task
def send_digests() -> int:
    sent = reminders.digests_send()
    reminders.notification_emails_send()
    return sent


@shared_task
def send_notification_emails() -> int:
    """Retry emails whose sender died before marking them sent (their lease expired)."""
    return reminders.notification_emails_send()
