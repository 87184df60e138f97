"""Deal pages: a deal's own page, its edits and activities, and the won and lost lists.

Every form here is a plain POST that answers with a redirect and a message, or re-renders
the page with the errors next to the fields (422). Stage moves from these pages post to
``deal_move`` (``pipeline.views.board``), whose plain-form path does the same.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crm.http import HtmxHttpRequest
from pipeline import selectors, services
from pipeline.forms import ActivityForm, DealEditForm
from pipeline.models import Deal, LostReason, Pipeline
from pipeline.views.shared import plan_activity, render_page, safe_next, zone_label

CLOSED_PER_PAGE = 50


def _visible_deal(request: HtmxHttpRequest, deal_id: int) -> Deal:
    deals = Deal.objects.visible_to(request.user).select_related(
        "stage", "pipeline", "owner", "organization", "contact"
    )
    return get_object_or_404(deals, pk=deal_id)


def _edit_form(request: HtmxHttpRequest, deal: Deal, data=None) -> DealEditForm:
    initial = {
        "version": deal.version,
        "organization_id": deal.organization_id or "",
        "organization_name": deal.organization.name if deal.organization else "",
        "contact_id": deal.contact_id or "",
        "contact_name": str(deal.contact) if deal.contact else "",
    }
    return DealEditForm(data, deal=deal, initial=initial, user=request.user)


def _reopen_stage_id(deal: Deal, timeline: list, open_stages: list) -> int | None:
    """The stage a reopen offers first: the one the deal was lost (or won) from."""
    candidate: int | None = deal.stage_id
    if deal.status == Deal.Status.WON:
        won = next((e.change for e in timeline if e.change and e.change.kind == "won"), None)
        candidate = won.from_stage_id if won else None
    open_ids = [stage.pk for stage in open_stages]
    return candidate if candidate in open_ids else (open_ids[-1] if open_ids else None)


def _deal_page(
    request: HtmxHttpRequest,
    deal: Deal,
    *,
    edit_form: DealEditForm | None = None,
    activity_form: ActivityForm | None = None,
    status: int = 200,
) -> HttpResponse:
    stages = selectors.board_stages(deal.pipeline)
    timeline, stays = selectors.deal_history(deal)
    activities = {e.activity.pk: e.activity for e in timeline if e.activity}.values()
    finished = [(a.done_at, a) for a in activities if a.done_at]
    open_stages = [stage for stage in stages if not stage.is_won]
    context = {
        "deal": deal,
        "stages": [(stage, stays.get(stage.pk)) for stage in stages],
        "current_index": next((i for i, s in enumerate(stages) if s.pk == deal.stage_id), -1),
        "open_stages": open_stages,
        "reopen_stage_id": _reopen_stage_id(deal, timeline, open_stages),
        "other_stages": selectors.other_pipeline_stages(deal.pipeline),
        "timeline": timeline,
        "planned": sorted((a for a in activities if not a.done_at), key=lambda a: a.due_at),
        "done": [a for _, a in sorted(finished, key=lambda pair: pair[0])][::-1],
        "edit_form": edit_form or _edit_form(request, deal),
        "activity_form": activity_form
        or ActivityForm(initial={"assignee": deal.owner_id, "kind": "call"}, user=request.user),
        "lost_reasons": LostReason.objects.filter(is_archived=False),
        "rotting": selectors.is_rotting(deal),
        "time_zone_label": zone_label(request.user),
    }
    return render_page(request, "pipeline/deal_detail.html", context, status=status)


@require_GET
def deal_detail(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    return _deal_page(request, _visible_deal(request, deal_id))


@require_POST
def deal_edit(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    deal = _visible_deal(request, deal_id)
    form = _edit_form(request, deal, request.POST)
    if not form.is_valid():
        return _deal_page(request, deal, edit_form=form, status=422)
    data = form.cleaned_data
    try:
        services.deal_update(
            actor=request.user,
            deal_id=deal.pk,
            version=data["version"],
            organization_name=data["organization_name"] if not data["organization"] else "",
            contact_name=data["contact_name"] if not data["contact"] else "",
            **{name: data[name] for name in services.DEAL_EDITABLE_FIELDS},
        )
    except services.NotFound as error:
        raise Http404(str(error)) from error
    except services.StaleDeal as error:
        # Keep what the user typed, against the current version: saving again applies it.
        fresh = _visible_deal(request, deal.pk)
        data = request.POST.copy()
        data["version"] = str(fresh.version)
        form = _edit_form(request, fresh, data)
        form.is_valid()
        form.add_error(None, str(error))
        return _deal_page(request, fresh, edit_form=form, status=409)
    except services.Invalid as error:
        error.add_to(form)
        return _deal_page(request, deal, edit_form=form, status=422)
    messages.success(request, "Deal saved.")
    return redirect("deal_detail", deal.pk)


@require_POST
def activity_add(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    deal = _visible_deal(request, deal_id)
    form = ActivityForm(request.POST, user=request.user)
    activity = plan_activity(request, form, deal=deal)
    if activity is None:
        return _deal_page(request, deal, activity_form=form, status=422)
    messages.success(request, f"Planned: {activity.subject}.")
    return redirect("deal_detail", deal.pk)


@require_POST
def activity_complete(request: HtmxHttpRequest, activity_id: int) -> HttpResponse:
    try:
        activity = services.activity_complete(actor=request.user, activity_id=activity_id)
    except services.NotFound as error:
        raise Http404(str(error)) from error
    messages.success(request, f"Done: {activity.subject}.")
    home = "deal_detail" if activity.deal_id else "my_activities"
    args = [activity.deal_id] if activity.deal_id else []
    return redirect(safe_next(request, reverse(home, args=args)))


def _closed_deals(request: HtmxHttpRequest, pipeline_id: int, status: str) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id, is_archived=False)
    deals = selectors.closed_deals(user=request.user, pipeline=pipeline, status=status)
    # get_page clamps: a page past the end shows the last one, a non-number the first.
    page = Paginator(deals, CLOSED_PER_PAGE).get_page(request.GET.get("page"))
    open_stages = [stage for stage in selectors.board_stages(pipeline) if not stage.is_won]
    context = {
        "pipeline": pipeline,
        "status": status,
        "page": page,
        "open_stages": open_stages,
        "last_open_stage_id": open_stages[-1].pk if open_stages else None,
        "here": request.get_full_path(),
    }
    return render_page(request, "pipeline/deals_closed.html", context)


@require_GET
def deals_won(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    return _closed_deals(request, pipeline_id, Deal.Status.WON)


@require_GET
def deals_lost(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    return _closed_deals(request, pipeline_id, Deal.Status.LOST)
