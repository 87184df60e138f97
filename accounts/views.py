"""People and teams: each user's own profile and password; for admins, users, teams and
the audit log. Parse, call a service, render; bad input re-renders with errors (422)."""

from __future__ import annotations

import copy
import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.errors import DomainError
from accounts.forms import (
    AuditFilterForm,
    ProfileForm,
    TeamForm,
    TeamManagerForm,
    UserCreateForm,
    UserRoleForm,
    manager_candidates,
)
from accounts.models import AuditEntry, Team, User
from accounts.permissions import admin_required

USERS_PER_PAGE = 50
AUDIT_PER_PAGE = 50


class SignedInRequest(HttpRequest):
    """A request as these views get it: ``LoginRequiredMiddleware`` (crm.settings) lets only
    signed-in users through. The same as ``crm.http.HtmxHttpRequest``, which ``accounts``
    may not import."""

    user: User


# ---- Own profile and password ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def profile(request: SignedInRequest) -> HttpResponse:
    if request.method == "GET":
        return render(
            request, "accounts/profile.html", {"form": ProfileForm(instance=request.user)}
        )
    # Validate against a copy so the header keeps the saved name when the form has errors.
    form = ProfileForm(request.POST, instance=copy.copy(request.user))
    if form.is_valid():
        try:
            services.profile_update(user=request.user, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form}, status=422)


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")
    success_message = "Your password is changed."

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=422)


RESETS_PER_HOUR = 3


def _reset_allowed(email: str) -> bool:
    """At most a few reset emails per address an hour, so nobody can flood an inbox."""
    key = "password-reset:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) <= RESETS_PER_HOUR
    except ValueError:  # expired between add and incr
        return True


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer whether or not the address is known, so nobody can probe accounts."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        if not _reset_allowed(form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())  # the same answer, no email
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=422)


# ---- Users (admins) ----------------------------------------------------------------------------


@require_GET
@admin_required
def users(request: SignedInRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    state = request.GET.get("state", "active")
    people = User.objects.select_related("team").order_by("-is_active", "first_name", "last_name")
    if state == "active":
        people = people.filter(is_active=True)
    elif state == "inactive":
        people = people.filter(is_active=False)
    for word in q.split()[:3]:
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    page = Paginator(people, USERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "state": state, "query": urlencode({"q": q, "state": state})}
    return render(request, "accounts/settings_users.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def user_new(request: SignedInRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "accounts/settings_user_new.html", {"form": UserCreateForm()})
    form = UserCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=request.user,
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                team_id=data["team"].pk if data["team"] else None,
                password=data["password"] or None,
            )
        except DomainError as error:
            error.add_to(form)
        else:
            how = "created" if data["password"] else f"invited; an email went to {user.email}"
            messages.success(request, f"{user} {how}.")
            return redirect("settings_users")
    return render(request, "accounts/settings_user_new.html", {"form": form}, status=422)


def _user_page(request, person: User, form=None, status=200):
    context = {
        "person": person,
        "form": form or UserRoleForm(initial={"role": person.role, "team": person.team_id}),
        "audit": AuditEntry.objects.filter(scope=f"user:{person.pk}").select_related("actor")[:20],
    }
    return render(request, "accounts/settings_user.html", context, status=status)


@require_GET
@admin_required
def user_detail(request: SignedInRequest, user_id: int) -> HttpResponse:
    return _user_page(request, get_object_or_404(User.objects.select_related("team"), pk=user_id))


@require_POST
@admin_required
def user_edit(request: SignedInRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User.objects.select_related("team"), pk=user_id)
    form = UserRoleForm(request.POST)
    if form.is_valid():
        team = form.cleaned_data["team"]
        try:
            services.user_update(
                actor=request.user,
                user_id=person.pk,
                role=form.cleaned_data["role"],
                team_id=team.pk if team else None,
            )
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, f"{person} saved.")
            return redirect("settings_user", person.pk)
    return _user_page(request, person, form, status=422)


@require_POST
@admin_required
def user_reactivate(request: SignedInRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id)
    services.user_reactivate(actor=request.user, user_id=person.pk)
    messages.success(request, f"{person} can sign in again.")
    return redirect("settings_user", person.pk)


@require_POST
@admin_required
def user_resend_invitation(request: SignedInRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id)
    try:
        services.user_resend_invitation(actor=request.user, user_id=person.pk)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"A new invitation went to {person.email}.")
    return redirect("settings_user", person.pk)


# ---- Teams (admins) ----------------------------------------------------------------------------


def _teams_page(request, form=None, status=200, forms=None):
    teams = list(
        Team.objects.annotate(
            member_count=Count("members", filter=Q(members__is_active=True))
        ).order_by("name")
    )
    managers: dict[int | None, list[User]] = {}
    for person in User.objects.filter(
        is_active=True, role=User.Role.MANAGER, team__isnull=False
    ).order_by("first_name", "last_name"):
        managers.setdefault(person.team_id, []).append(person)
    forms = forms or {}
    people = manager_candidates()
    rows = []
    for team in teams:
        rename = forms.get(("rename", team.pk)) or TeamForm(initial={"name": team.name})
        manager = forms.get(("manager", team.pk)) or TeamManagerForm(people=people)
        # One page holds a form pair per team: give each its own element ids.
        rename.auto_id = manager.auto_id = f"team{team.pk}-%s"
        rows.append((team, managers.get(team.pk, []), rename, manager))
    return render(
        request,
        "accounts/settings_teams.html",
        {"rows": rows, "form": form or TeamForm()},
        status=status,
    )


@require_GET
@admin_required
def teams(request: SignedInRequest) -> HttpResponse:
    return _teams_page(request)


@require_POST
@admin_required
def team_new(request: SignedInRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            team = services.team_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, f"Team {team.name} created.")
            return redirect("settings_teams")
    return _teams_page(request, form=form, status=422)


@require_POST
@admin_required
def team_rename(request: SignedInRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            services.team_rename(
                actor=request.user, team_id=team.pk, name=form.cleaned_data["name"]
            )
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, "Team renamed.")
            return redirect("settings_teams")
    return _teams_page(request, forms={("rename", team.pk): form}, status=422)


@require_POST
@admin_required
def team_manager(request: SignedInRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    form = TeamManagerForm(request.POST, people=manager_candidates())
    if form.is_valid():
        try:
            person = services.team_set_manager(
                actor=request.user, team_id=team.pk, user_id=form.cleaned_data["manager"]
            )
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, f"{person} now manages {team.name}.")
            return redirect("settings_teams")
    return _teams_page(request, forms={("manager", team.pk): form}, status=422)


# ---- Audit log (admins) ------------------------------------------------------------------------

AUDIT_AREAS = {
    "user": "Users",
    "team": "Teams",
    "pipeline": "Pipelines and stages",
    "deal": "Deal owners",
}


@require_GET
@admin_required
def audit(request: SignedInRequest) -> HttpResponse:
    actors = User.objects.filter(pk__in=AuditEntry.objects.values("actor_id").distinct()).order_by(
        "first_name", "last_name"
    )
    area, person, q = AuditFilterForm(request.GET, areas=AUDIT_AREAS, actors=actors).filters()
    entries = AuditEntry.objects.select_related("actor")
    if area:
        entries = entries.filter(scope__startswith=area)
    if person:
        entries = entries.filter(actor=person)
    if q:
        entries = entries.filter(summary__icontains=q)
    page = Paginator(entries, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    actor = str(person.pk) if person else ""
    context = {
        "page": page,
        "areas": AUDIT_AREAS,
        "area": area,
        "actors": actors,
        "actor": actor,
        "q": q,
        "query": urlencode({"area": area, "actor": actor, "q": q}),
    }
    return render(request, "accounts/settings_audit.html", context)
