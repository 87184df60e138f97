"""Deactivating a user, with the hand-over of their open work.

This view lives in ``pipeline`` rather than ``accounts`` because it needs the deals and
activities: ``accounts`` may not import ``pipeline``. It hands
``pipeline.services.deals_hand_over`` to ``accounts.services.user_deactivate``, which runs it
in its own transaction.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.forms import DeactivateForm
from accounts.models import User
from accounts.permissions import admin_required
from crm.http import HtmxHttpRequest
from pipeline import services
from pipeline.models import Activity, Deal


def _open_work(person: User) -> dict[str, int]:
    return {
        "open_deals": Deal.objects.filter(owner=person, status=Deal.Status.OPEN).count(),
        "planned": Activity.objects.filter(assignee=person, done_at__isnull=True).count(),
    }


def _page(request, person: User, form: DeactivateForm, work, status: int = 200) -> HttpResponse:
    context = {"person": person, "form": form, **work}
    return render(request, "accounts/settings_user_deactivate.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def user_deactivate(request: HtmxHttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id)
    work = _open_work(person)
    has_work = any(work.values())
    if request.method == "GET":
        return _page(request, person, DeactivateForm(leaving=person, has_work=has_work), work)
    form = DeactivateForm(request.POST, leaving=person, has_work=has_work)
    if form.is_valid():
        successor = form.cleaned_data["successor"]
        try:
            moved = account_services.user_deactivate(
                actor=request.user,
                user_id=person.pk,
                successor_id=successor.pk if successor else None,
                hand_over=services.deals_hand_over,
            )
        except services.DomainError as error:
            error.add_to(form)
        else:
            handed = moved.get("deals", 0) + moved.get("activities", 0)
            suffix = f" Their open work now belongs to {successor}." if handed else ""
            messages.success(request, f"{person} is deactivated.{suffix}")
            return redirect("settings_user", person.pk)
    return _page(request, person, form, _open_work(person), status=422)
