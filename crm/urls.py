from django.contrib import admin
from django.urls import include, path

from accounts.urls import settings_urlpatterns as account_settings
from crm import views as crm_views

urlpatterns = [
    path("", include("pipeline.urls")),
    path("", include("reports.urls")),
    path("accounts/", include("accounts.urls")),
    path("settings/", include(account_settings)),
    path("admin/", admin.site.urls),
    path("healthz", crm_views.healthz, name="healthz"),
    path("organizations/search", crm_views.organization_search, name="organization_search"),
    path("contacts/search", crm_views.contact_search, name="contact_search"),
    path("contacts/", crm_views.contacts, name="contacts"),
    path("contacts/new", crm_views.contact_new, name="contact_new"),
    path("contacts/<int:contact_id>/", crm_views.contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit", crm_views.contact_edit, name="contact_edit"),
    path("organizations/", crm_views.organizations, name="organizations"),
    path("organizations/new", crm_views.organization_new, name="organization_new"),
    path(
        "organizations/<int:organization_id>/",
        crm_views.organization_detail,
        name="organization_detail",
    ),
    path(
        "organizations/<int:organization_id>/edit",
        crm_views.organization_edit,
        name="organization_edit",
    ),
]
