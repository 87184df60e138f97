"""HTTP for the pipeline: parse, call a service or selector, render. Nothing else."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh, reswap, retarget, trigger_client_event

from crm.http import HtmxHttpRequest, bad_request, form_errors_text
from pipeline import selectors, services
from pipeline.forms import BoardFilterForm, DealQuickAddForm, MoreCardsForm, MoveForm
from pipeline.models import Deal, LostReason, Pipeline, Stage

# Rendered columns are cached per viewer scope, filters and board stamp: any change to a deal
# of the pipeline gives a new stamp, so the cache never shows a board older than its data.
BOARD_CACHE_SECONDS = 600


def announce(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    """Show a short status message and read it to screen readers (see static/js/board.js)."""
    return trigger_client_event(response, "crm:announce", {"message": message, "level": level})


def _pipeline_or_404(pipeline_id: int) -> Pipeline:
    return get_object_or_404(Pipeline, pk=pipeline_id, is_archived=False)


def _filters(request: HtmxHttpRequest, data: QueryDict) -> selectors.BoardFilters | None:
    form = BoardFilterForm(data, user=request.user)
    return form.filters() if form.is_valid() else None


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    pipelines = selectors.active_pipelines()
    if not pipelines:
        return render(request, "pipeline/board.html", {"pipeline": None, "columns": []})
    return _board_page(request, pipelines[0], pipelines)


@require_GET
def board(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    pipelines = selectors.active_pipelines()
    pipeline = next((p for p in pipelines if p.pk == pipeline_id), None)
    if pipeline is None:
        raise Http404("No such pipeline.")
    return _board_page(request, pipeline, pipelines)


def _board_page(
    request: HtmxHttpRequest, pipeline: Pipeline, pipelines: list[Pipeline]
) -> HttpResponse:
    form = BoardFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return bad_request(f"These board filters are not valid: {form_errors_text(form)}")
    filters = form.filters()
    stages = selectors.board_stages(pipeline)
    stamp = selectors.board_stamp(pipeline.pk)
    context = {
        "pipeline": pipeline,
        "pipelines": pipelines,
        "columns_html": _columns_html(request, pipeline, filters, stages, stamp),
        "stages": stages,
        "won_stage": next((stage for stage in stages if stage.is_won), None),
        "filters": filters,
        "filter_form": form,
        "owner_scope": filters.owner or selectors.default_owner_scope(request.user),
        "filter_query": filters.as_query(),
        "stamp": stamp,
        "lost_reasons": LostReason.objects.filter(is_archived=False),
    }
    if request.htmx and request.htmx.target == "board-columns":
        return render(request, "pipeline/board.html#columns_update", context)
    return render(request, "pipeline/board.html", context)


def _columns_html(
    request: HtmxHttpRequest,
    pipeline: Pipeline,
    filters: selectors.BoardFilters,
    stages: list[Stage],
    stamp: str,
) -> str:
    """The rendered columns, from the cache while nothing on the board has changed."""
    key = selectors.board_cache_key(
        user=request.user, pipeline=pipeline, filters=filters, stages=stages, stamp=stamp
    )
    html = cache.get(key)
    if html is None:
        columns = selectors.board_columns(
            user=request.user, pipeline=pipeline, filters=filters, stages=stages
        )
        context = {"pipeline": pipeline, "columns": columns, "filter_query": filters.as_query()}
        html = render_to_string("pipeline/board.html#columns", context, request)
        cache.set(key, html, timeout=BOARD_CACHE_SECONDS)
    return mark_safe(html)


@require_GET
def board_changes(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    """Polled by an open board: 204 with no rendering while nothing changed."""
    stamp = selectors.board_stamp(pipeline_id)
    if request.GET.get("stamp") == stamp:
        return HttpResponse(status=204)
    pipeline = _pipeline_or_404(pipeline_id)
    filters = _filters(request, request.GET)
    if filters is None:
        return bad_request("These board filters are not valid.")
    stages = selectors.board_stages(pipeline)
    context = {
        "pipeline": pipeline,
        "columns_html": _columns_html(request, pipeline, filters, stages, stamp),
        "stamp": stamp,
        "filter_query": filters.as_query(),
    }
    return render(request, "pipeline/board.html#columns_update", context)


@require_GET
def column_more(request: HtmxHttpRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    pipeline = _pipeline_or_404(pipeline_id)
    stages = selectors.board_stages(pipeline)
    stage = next((s for s in stages if s.pk == stage_id), None)
    filters = _filters(request, request.GET)
    more = MoreCardsForm(request.GET)
    if stage is None:
        raise Http404("No such stage on this board.")
    if filters is None or not more.is_valid():
        return bad_request("Say which card to continue after.")
    after = (more.cleaned_data["after_position"], more.cleaned_data["after_id"])
    cards, has_more = selectors.more_cards(
        user=request.user,
        pipeline=pipeline,
        filters=filters,
        stages=stages,
        stage=stage,
        after=after,
    )
    context = {
        "pipeline": pipeline,
        "stage": stage,
        "cards": cards,
        "has_more": has_more,
        "filter_query": filters.as_query(),
    }
    return render(request, "pipeline/board.html#more_cards", context)


def _back(request: HtmxHttpRequest, deal_id: int) -> str:
    """Where a plain form post returns to: a safe ``next`` or the deal's page."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("deal_detail", args=[deal_id])


def _page_move(request: HtmxHttpRequest, deal_id: int, data: dict) -> HttpResponse:
    """The same move from a plain form (deal page, lost list): message and redirect."""
    try:
        result = services.deal_move(
            actor=request.user,
            deal_id=deal_id,
            version=data["version"],
            stage_id=data["stage"],
            outcome=data["outcome"] or None,
            lost_reason=data["lost_reason"],
            allow_other_pipeline=data["other_pipeline"],
        )
    except services.NotFound as error:
        raise Http404(str(error)) from error
    except services.DomainError as error:
        messages.error(request, str(error))
        return redirect(_back(request, deal_id))
    deal = result.deal
    if deal.status == Deal.Status.LOST:
        messages.success(request, f"“{deal.title}” marked as lost.")
    elif result.changed:
        status = " (won)" if deal.status == Deal.Status.WON else ""
        messages.success(request, f"“{deal.title}” is now in {deal.stage.name}{status}.")
    return redirect(_back(request, deal_id))


def _touched_headers(
    request: HtmxHttpRequest, pipeline: Pipeline, stage_ids: set[int]
) -> tuple[selectors.BoardFilters, list[selectors.Column]]:
    """Fresh headers of the columns a change touched, under the board's current filters."""
    filters = _filters(request, request.POST) or selectors.BoardFilters()
    stages = selectors.board_stages(pipeline)
    headers = selectors.column_headers(
        user=request.user, pipeline=pipeline, filters=filters, stages=stages
    )
    return filters, [column for column in headers if column.stage.pk in stage_ids]


def _move_response(request: HtmxHttpRequest, result: services.MoveResult) -> HttpResponse:
    deal = result.deal
    if request.POST.get("context") != "board":
        return HttpResponseClientRefresh()
    pipeline = deal.pipeline
    filters, headers = _touched_headers(request, pipeline, {result.from_stage.pk, deal.stage_id})
    on_board = deal.status == Deal.Status.OPEN or deal.stage.is_won
    card = selectors.board_card(user=request.user, deal_id=deal.pk) if on_board else None
    if not result.changed:
        message = f"“{deal.title}” is already there."
    elif result.place is None:  # off the board: lost, or won with no post-sale stage
        if deal.status == Deal.Status.LOST:
            message = f"“{deal.title}” marked as lost: {deal.lost_reason}."
        else:
            message = f"“{deal.title}” won. It is listed under won deals."
    else:
        place, total = result.place  # counted under the column lock: true at commit
        verb = "won and moved" if deal.status == Deal.Status.WON else "moved"
        message = f"“{deal.title}” {verb} to {deal.stage.name}, position {place} of {total}."
    context = {
        "card": card,
        "headers": headers,
        "filter_query": filters.as_query(),
        "pipeline": pipeline,
    }
    response = render(request, "pipeline/board.html#card_result", context)
    return announce(response, message)


@require_POST
def deal_move(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    form = MoveForm(request.POST)
    if not form.is_valid() and not request.htmx:
        get_object_or_404(Deal.objects.visible_to(request.user), pk=deal_id)
        messages.error(request, form_errors_text(form))
        return redirect(_back(request, deal_id))
    if not form.is_valid():
        return announce(
            HttpResponseBadRequest(form_errors_text(form)), form_errors_text(form), "error"
        )
    data = form.cleaned_data
    if not request.htmx:
        return _page_move(request, deal_id, data)
    try:
        result = services.deal_move(
            actor=request.user,
            deal_id=deal_id,
            version=data["version"],
            stage_id=data["stage"],
            outcome=data["outcome"] or None,
            lost_reason=data["lost_reason"],
            above_id=data["above"],
            below_id=data["below"],
        )
    except services.NotFound as error:
        raise Http404(str(error)) from error
    except services.StaleDeal as error:
        response = HttpResponse(str(error), status=409, content_type="text/plain")
        return announce(response, str(error), "error")
    except services.Invalid as error:
        return announce(HttpResponseBadRequest(str(error)), str(error), "error")
    return _move_response(request, result)


@require_http_methods(["GET", "POST"])
def deal_quick_add(request: HtmxHttpRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    pipeline = _pipeline_or_404(pipeline_id)
    stage = get_object_or_404(
        Stage, pk=stage_id, pipeline=pipeline, is_archived=False, is_won=False
    )
    form = DealQuickAddForm(request.POST or None, initial={"currency": Deal().currency})
    context = {"form": form, "stage": stage, "pipeline": pipeline}
    if request.method == "GET":
        return render(request, "pipeline/board.html#quick_add_form", context)
    if not form.is_valid():
        response = render(request, "pipeline/board.html#quick_add_form", context, status=422)
        return reswap(retarget(response, "#quick-add-body"), "innerHTML")
    data = form.cleaned_data
    deal = services.deal_create(
        actor=request.user,
        title=data["title"],
        stage=stage,
        value=data["value"],
        currency=data["currency"],
        organization=data["organization"],
        organization_name=data["organization_name"],
        contact=data["contact"],
        contact_name=data["contact_name"],
        expected_close_date=data["expected_close_date"],
    )
    filters, headers = _touched_headers(request, pipeline, {stage.pk})
    context |= {
        "card": selectors.board_card(user=request.user, deal_id=deal.pk),
        "headers": headers,
        "filter_query": filters.as_query(),
    }
    response = render(request, "pipeline/board.html#card_result", context)
    return announce(response, f"“{deal.title}” added to {stage.name}.")
