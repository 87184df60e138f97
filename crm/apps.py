from django.apps import AppConfig


class CrmConfig(AppConfig):
    verbose_name = "Contacts & organizations"
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"
