from django.urls import path

from pipeline import views

urlpatterns = [
    path("", views.home, name="home"),
]
