from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.reports, name="reports"),
    path("reports/<slug:table>.csv", views.reports_csv, name="reports_csv"),
]
