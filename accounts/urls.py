from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import LoginForm

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]

# Admin pages, mounted under /settings/ by crm/urls.py (same namespace).
settings_urlpatterns = [
    path("users/", views.users, name="settings_users"),
    path("users/new", views.user_new, name="settings_user_new"),
    path("users/<int:user_id>/", views.user_detail, name="settings_user"),
    path("users/<int:user_id>/edit", views.user_edit, name="settings_user_edit"),
    path("users/<int:user_id>/reactivate", views.user_reactivate, name="settings_user_reactivate"),
    path(
        "users/<int:user_id>/invite",
        views.user_resend_invitation,
        name="settings_user_invite",
    ),
    path("teams/", views.teams, name="settings_teams"),
    path("teams/new", views.team_new, name="settings_team_new"),
    path("teams/<int:team_id>/rename", views.team_rename, name="settings_team_rename"),
    path("teams/<int:team_id>/manager", views.team_manager, name="settings_team_manager"),
    path("audit/", views.audit, name="settings_audit"),
]
