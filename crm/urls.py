from django.contrib import admin
from django.urls import include, path

from crm import views as crm_views

urlpatterns = [
    path("", include("pipeline.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", crm_views.healthz, name="healthz"),
    path("organizations/search", crm_views.organization_search, name="organization_search"),
    path("contacts/search", crm_views.contact_search, name="contact_search"),
]
