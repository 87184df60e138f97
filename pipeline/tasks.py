"""Celery tasks: thin wrappers that call ``pipeline.services.notifications``, scheduled in
crm/celery.py.

Every task may run late, twice, or on two workers at once: the services claim their work in
the database, so a repeat finds nothing left to do (docs/notifications.md).
"""

from celery import shared_task

from pipeline.services import notifications


@shared_task
def send_reminders() -> int:
    sent = notifications.reminders_send()
    notifications.notification_emails_send()
    return sent


@shared_task
def send_aging_alerts() -> int:
    sent = notifications.aging_alerts_send()
    notifications.notification_emails_send()
    return sent


@shared_task
def send_digests() -> int:
    sent = notifications.digests_send()
    notifications.notification_emails_send()
    return sent


@shared_task
def send_notification_emails() -> int:
    """Retry emails whose sender died before marking them sent (their lease expired)."""
    return notifications.notification_emails_send()
