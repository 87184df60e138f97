from django.apps import AppConfig


class CrmConfig(AppConfig):
    verbose_name = "Contacts & organizations"
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"

    def ready(self) -> None:
        # Registers the PostgreSQL loader that reads out-of-range timestamps as the nearest
        # moment Python can hold (crm.validation), for web and worker processes alike.
        from crm import validation  # noqa: F401
