"""What the pipeline's view modules share: rendering in the user's time zone, announcing a
result, a safe "next" address, the time-zone label of forms, and planning an activity."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import trigger_client_event

from crm.http import HtmxHttpRequest
from pipeline import services
from pipeline.forms import ActivityForm
from pipeline.models import Activity


def render_page(
    request: HtmxHttpRequest, template: str, context: dict, status: int = 200
) -> HttpResponse:
    """Render a page or a fragment (``"page.html#part"``) with dates and times in the user's
    own time zone, as the forms read them."""
    with timezone.override(request.user.zone):
        return render(request, template, context, status=status)


def announce(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    """Show a short status message and read it to screen readers (see static/js/board.js)."""
    return trigger_client_event(response, "crm:announce", {"message": message, "level": level})


def safe_next(request: HtmxHttpRequest, fallback: str) -> str:
    """Where a form post returns to: its ``next`` if it stays on this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def zone_label(user) -> str:
    """The user's time zone as a form shows it beside a time: "Berlin", "New York"."""
    return (user.time_zone or "UTC").rsplit("/", 1)[-1].replace("_", " ")


def plan_activity(request: HtmxHttpRequest, form: ActivityForm, **target) -> Activity | None:
    """Plan the activity a bound form describes on ``target`` (deal= and/or contact=).

    Returns None with the errors on the form when the form or the service refuses it.
    """
    if not form.is_valid():
        return None
    try:
        return services.activity_create(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            subject=form.cleaned_data["subject"],
            due_at=form.due_at(),
            assignee=form.cleaned_data["assignee"],
            notes=form.cleaned_data["notes"],
            **target,
        )
    except services.Invalid as error:
        error.add_to(form)
        return None
