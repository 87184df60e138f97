"""Activities outside the deal page: the "my activities" page, editing and deleting one,
and a contact's activities (a section the contact page loads from here with htmx, since the
address book app must not import the pipeline)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from crm.http import HtmxHttpRequest
from crm.models import Contact
from crm.templatetags.dates import local
from pipeline import selectors, services
from pipeline.card_html import render_card
from pipeline.forms import ActivityForm
from pipeline.models import Activity, Deal
from pipeline.views.shared import announce, plan_activity, render_page, safe_next, zone_label

UPCOMING_LIMIT = 200


def _home_of(activity: Activity) -> str:
    if activity.deal_id:
        return reverse("deal_detail", args=[activity.deal_id])
    return reverse("my_activities")


@require_GET
def my_activities(request: HtmxHttpRequest) -> HttpResponse:
    """The user's planned activities: overdue, today and upcoming, in their own day."""
    now = timezone.now()
    zone = request.user.zone
    today = now.astimezone(zone).date()
    planned = (
        Activity.objects.filter(assignee=request.user, done_at__isnull=True)
        .select_related("deal", "contact")
        .order_by("due_at", "id")[:UPCOMING_LIMIT]
    )
    groups: dict[str, list[Activity]] = {"overdue": [], "today": [], "upcoming": []}
    for activity in planned:
        if activity.due_at < now:
            groups["overdue"].append(activity)
        elif local(activity.due_at, zone).date() == today:
            groups["today"].append(activity)
        else:
            groups["upcoming"].append(activity)
    context = {**groups, "count": sum(len(group) for group in groups.values()), "now": now}
    return render_page(request, "pipeline/activities.html", context)


def _visible_activity(request: HtmxHttpRequest, activity_id: int) -> Activity:
    activities = Activity.objects.visible_to(request.user).select_related("deal", "contact")
    return get_object_or_404(activities, pk=activity_id)


def _edit_form(request: HtmxHttpRequest, activity: Activity, data=None) -> ActivityForm:
    due = local(activity.due_at, request.user.zone)
    initial = {
        "kind": activity.kind,
        "subject": activity.subject,
        "due_date": due.date().isoformat(),
        "due_time": due.strftime("%H:%M"),
        "assignee": activity.assignee_id,
        "notes": activity.notes,
    }
    return ActivityForm(data, initial=initial, user=request.user, keep=activity.assignee)


def _edit_page(request, activity, form, status=200) -> HttpResponse:
    context = {
        "activity": activity,
        "form": form,
        "next": safe_next(request, _home_of(activity)),
        "time_zone_label": zone_label(request.user),
    }
    return render_page(request, "pipeline/activity_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
def activity_edit(request: HtmxHttpRequest, activity_id: int) -> HttpResponse:
    activity = _visible_activity(request, activity_id)
    if request.method == "GET":
        return _edit_page(request, activity, _edit_form(request, activity))
    form = _edit_form(request, activity, request.POST)
    if not form.is_valid():
        return _edit_page(request, activity, form, status=422)
    data = form.cleaned_data
    try:
        services.activity_update(
            actor=request.user,
            activity_id=activity.pk,
            kind=data["kind"],
            subject=data["subject"],
            due_at=form.due_at(),
            assignee=data["assignee"],
            notes=data["notes"],
        )
    except services.NotFound as error:
        raise Http404(str(error)) from error
    except services.Invalid as error:
        error.add_to(form)
        return _edit_page(request, activity, form, status=422)
    messages.success(request, f"Saved: {data['subject']}.")
    return redirect(safe_next(request, _home_of(activity)))


@require_POST
def activity_delete(request: HtmxHttpRequest, activity_id: int) -> HttpResponse:
    try:
        activity = services.activity_delete(actor=request.user, activity_id=activity_id)
    except services.NotFound as error:
        raise Http404(str(error)) from error
    messages.success(request, f"Deleted: {activity.subject}.")
    fallback = _home_of(activity)
    target = safe_next(request, fallback)
    # The edit page of a deleted activity is gone: go where it lived instead.
    if target.startswith(reverse("activity_edit", args=[activity_id])):
        target = fallback
    return redirect(target)


# ---- A contact's activities (loaded into the contact page) ------------------------------------


def _contact_section(request, contact: Contact, form=None, status=200) -> HttpResponse:
    activities = list(
        Activity.objects.visible_to(request.user)
        .filter(contact=contact)
        .select_related("assignee", "deal")
        .order_by(F("done_at").desc(nulls_first=True), "due_at", "id")[:100]
    )
    context = {
        "contact": contact,
        "planned": [a for a in activities if a.done_at is None],
        "done": [a for a in activities if a.done_at is not None][:10],
        "activity_form": form
        or ActivityForm(initial={"assignee": request.user.pk, "kind": "call"}, user=request.user),
        "time_zone_label": zone_label(request.user),
        "next": reverse("contact_detail", args=[contact.pk]),
    }
    return render_page(request, "pipeline/contact_activities.html", context, status=status)


def _visible_contact(request, contact_id: int) -> Contact:
    return get_object_or_404(Contact.objects.visible_to(request.user), pk=contact_id)


@require_GET
def contact_activities(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    return _contact_section(request, _visible_contact(request, contact_id))


@require_POST
def contact_activity_add(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = _visible_contact(request, contact_id)
    form = ActivityForm(request.POST, user=request.user)
    activity = plan_activity(request, form, contact=contact)
    if activity is None:
        return _contact_section(request, contact, form, status=422)
    if not request.htmx:
        messages.success(request, f"Planned: {activity.subject}.")
        return redirect(safe_next(request, reverse("my_activities")))
    return _contact_section(request, contact)


# ---- Plan from a board card (a dialog on the board) -------------------------------------------


@require_http_methods(["GET", "POST"])
def activity_plan(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    """GET: the plan form for the board's dialog. POST: plan it and answer with the fresh
    card (its next step changed); a bad form comes back into the dialog with its errors."""
    deal = get_object_or_404(Deal.objects.visible_to(request.user), pk=deal_id)
    tomorrow = timezone.now().astimezone(request.user.zone).date() + dt.timedelta(days=1)
    initial = {"assignee": deal.owner_id, "kind": "call", "due_date": tomorrow.isoformat()}
    form = ActivityForm(request.POST or None, initial=initial, user=request.user)
    context = {
        "deal": deal,
        "activity_form": form,
        "time_zone_label": zone_label(request.user),
    }
    if request.method == "GET":
        return render_page(request, "pipeline/_plan_dialog.html", context)
    activity = plan_activity(request, form, deal=deal)
    if activity is not None:
        card = selectors.board_card(user=request.user, deal_id=deal.pk)
        # Gone from the user's board meanwhile (given to someone else): no card, as a move
        # answers (board.html#card_result).
        response = HttpResponse(render_card(card) if card is not None else "")
        return announce(response, f"Planned for “{deal.title}”: {activity.subject}.")
    response = render_page(request, "pipeline/_plan_dialog.html", context, status=422)
    return reswap(retarget(response, "#plan-body"), "innerHTML")
