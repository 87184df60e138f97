"""Deal pages: a deal's own page, its edits and activities, and the won and lost lists."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.http import HtmxHttpRequest
from pipeline import selectors, services
from pipeline.forms import ActivityForm, DealEditForm
from pipeline.models import Deal, LostReason, Pipeline

CLOSED_PER_PAGE = 50


def _visible_deal(request: HtmxHttpRequest, deal_id: int) -> Deal:
    deals = Deal.objects.visible_to(request.user).select_related(
        "stage", "pipeline", "owner", "organization", "contact"
    )
    return get_object_or_404(deals, pk=deal_id)


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
    initial = {
        "version": deal.version,
        "organization_id": deal.organization_id or "",
        "organization_name": deal.organization.name if deal.organization else "",
        "contact_id": deal.contact_id or "",
        "contact_name": str(deal.contact) if deal.contact else "",
    }
    context = {
        "deal": deal,
        "stages": [(stage, stays.get(stage.pk)) for stage in stages],
        "current_index": next((i for i, s in enumerate(stages) if s.pk == deal.stage_id), -1),
        "open_stages": [stage for stage in stages if not stage.is_won],
        "timeline": timeline,
        "planned": [e.activity for e in timeline if e.activity and not e.activity.done_at],
        "edit_form": edit_form or DealEditForm(instance=deal, initial=initial, user=request.user),
        "activity_form": activity_form
        or ActivityForm(initial={"assignee": deal.owner_id, "kind": "call"}, user=request.user),
        "lost_reasons": LostReason.objects.filter(is_archived=False),
        "rotting": selectors.is_rotting(deal),
    }
    return render(request, "pipeline/deal_detail.html", context, status=status)


@require_GET
def deal_detail(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    return _deal_page(request, _visible_deal(request, deal_id))


@require_POST
def deal_edit(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    deal = _visible_deal(request, deal_id)
    form = DealEditForm(request.POST, instance=Deal.objects.get(pk=deal.pk), user=request.user)
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
    except services.DealNotFound as error:
        raise Http404(str(error)) from error
    except services.DealError as error:
        messages.error(request, str(error))
        return redirect("deal_detail", deal.pk)
    messages.success(request, "Deal saved.")
    return redirect("deal_detail", deal.pk)


@require_POST
def activity_add(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    deal = _visible_deal(request, deal_id)
    form = ActivityForm(request.POST, user=request.user)
    if not form.is_valid():
        return _deal_page(request, deal, activity_form=form, status=422)
    services.activity_create(
        actor=request.user,
        deal=deal,
        kind=form.cleaned_data["kind"],
        subject=form.cleaned_data["subject"],
        due_at=form.due_at(),
        assignee=form.cleaned_data["assignee"],
        notes=form.cleaned_data["notes"],
    )
    messages.success(request, f"Planned: {form.cleaned_data['subject']}.")
    return redirect("deal_detail", deal.pk)


@require_POST
def activity_complete(request: HtmxHttpRequest, activity_id: int) -> HttpResponse:
    try:
        activity = services.activity_complete(actor=request.user, activity_id=activity_id)
    except services.DealNotFound as error:
        raise Http404(str(error)) from error
    messages.success(request, f"Done: {activity.subject}.")
    if activity.deal_id:
        return redirect("deal_detail", activity.deal_id)
    return redirect("home")


def _closed_deals(request: HtmxHttpRequest, pipeline_id: int, status: str) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id, is_archived=False)
    deals = (
        Deal.objects.visible_to(request.user)
        .filter(pipeline=pipeline, status=status)
        .select_related("stage", "owner", "organization", "contact")
        .order_by("-closed_at", "-id")
    )
    page = Paginator(deals, CLOSED_PER_PAGE).get_page(request.GET.get("page"))
    stages = selectors.board_stages(pipeline)
    context = {
        "pipeline": pipeline,
        "status": status,
        "page": page,
        "open_stages": [stage for stage in stages if not stage.is_won],
        "here": request.get_full_path(),
    }
    return render(request, "pipeline/deals_closed.html", context)


@require_GET
def deals_won(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    return _closed_deals(request, pipeline_id, Deal.Status.WON)


@require_GET
def deals_lost(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    return _closed_deals(request, pipeline_id, Deal.Status.LOST)
