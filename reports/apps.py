from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Stage metrics for managers: reads every app's data, and nothing depends on it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
