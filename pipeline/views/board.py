"""HTTP for the pipeline: parse, call a service or selector, render. Nothing else."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh, reswap, retarget

from crm.http import HtmxHttpRequest, bad_request, form_errors_text
from pipeline import selectors, services
from pipeline.forms import BoardFilterForm, DealQuickAddForm, MoreCardsForm, MoveForm
from pipeline.models import Deal, LostReason, Pipeline, Stage
from pipeline.views.shared import announce, safe_next

# Rendered columns are cached per viewer scope, filters and board stamp: any change to a deal
# of the pipeline gives a new stamp, so the cache never shows a board older than its data.
BOARD_CACHE_SECONDS = 600


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


@require_POST
def deal_move(request: HtmxHttpRequest, deal_id: int) -> HttpResponse:
    """Every way of moving a deal posts here: a drop or the Move dialog on the board (htmx),
    the deal page's stage bar and the lost list (plain forms). One service call; the answer
    is built in ``_move_answer``."""
    form = MoveForm(request.POST)
    try:
        if not form.is_valid():
            get_object_or_404(Deal.objects.visible_to(request.user), pk=deal_id)
            raise services.Invalid(form_errors_text(form))
        data = form.cleaned_data
        outcome: services.MoveResult | services.DomainError = services.deal_move(
            actor=request.user,
            deal_id=deal_id,
            version=data["version"],
            stage_id=data["stage"],
            outcome=data["outcome"] or None,
            lost_reason=data["lost_reason"],
            above_id=data["above"],
            below_id=data["below"],
            # Only the deal page offers other pipelines; a board drop stays in its own.
            allow_other_pipeline=data["other_pipeline"] and not request.htmx,
        )
    except services.NotFound as error:
        raise Http404(str(error)) from error
    except services.DomainError as error:
        outcome = error
    return _move_answer(request, deal_id, outcome)


def _move_answer(
    request: HtmxHttpRequest, deal_id: int, outcome: services.MoveResult | services.DomainError
) -> HttpResponse:
    """The board gets the card and the headers it touched, or the reason with the card left
    where it was; a plain form gets a message and goes back where it came from."""
    if isinstance(outcome, services.DomainError):
        message = str(outcome)
        if not request.htmx:
            messages.error(request, message)
            return redirect(safe_next(request, reverse("deal_detail", args=[deal_id])))
        status = 409 if isinstance(outcome, services.Stale) else 400
        return announce(
            HttpResponse(message, status=status, content_type="text/plain"), message, "error"
        )
    deal = outcome.deal
    if not request.htmx:
        if outcome.changed:
            messages.success(request, _move_message(outcome, on_board=False))
        return redirect(safe_next(request, reverse("deal_detail", args=[deal_id])))
    if request.POST.get("context") != "board":
        return HttpResponseClientRefresh()
    pipeline = deal.pipeline
    filters, headers = _touched_headers(request, pipeline, {outcome.from_stage.pk, deal.stage_id})
    card = None
    if outcome.place is not None:
        card = selectors.board_card(user=request.user, deal_id=deal.pk)
    context = {
        "card": card,
        "headers": headers,
        "filter_query": filters.as_query(),
        "pipeline": pipeline,
    }
    response = render(request, "pipeline/board.html#card_result", context)
    return announce(response, _move_message(outcome, on_board=True))


def _move_message(result: services.MoveResult, *, on_board: bool) -> str:
    """What a move says: on the board the card's new place, on a page the deal's stage."""
    deal = result.deal
    if not result.changed:
        return f"“{deal.title}” is already there."
    if not on_board:
        if deal.status == Deal.Status.LOST:
            return f"“{deal.title}” marked as lost."
        won = " (won)" if deal.status == Deal.Status.WON else ""
        return f"“{deal.title}” is now in {deal.stage.name}{won}."
    if result.place is None:  # off the board: lost, or won with no post-sale stage
        if deal.status == Deal.Status.LOST:
            return f"“{deal.title}” marked as lost: {deal.lost_reason}."
        return f"“{deal.title}” won. It is listed under won deals."
    place, total = result.place  # counted under the column lock: true at commit
    verb = "won and moved" if deal.status == Deal.Status.WON else "moved"
    return f"“{deal.title}” {verb} to {deal.stage.name}, position {place} of {total}."


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
    deal = None
    if form.is_valid():
        data = form.cleaned_data
        try:
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
        except services.Invalid as error:
            error.add_to(form)
    if deal is None:
        response = render(request, "pipeline/board.html#quick_add_form", context, status=422)
        return reswap(retarget(response, "#quick-add-body"), "innerHTML")
    filters, headers = _touched_headers(request, pipeline, {stage.pk})
    context |= {
        "card": selectors.board_card(user=request.user, deal_id=deal.pk),
        "headers": headers,
        "filter_query": filters.as_query(),
    }
    response = render(request, "pipeline/board.html#card_result", context)
    return announce(response, f"“{deal.title}” added to {stage.name}.")
