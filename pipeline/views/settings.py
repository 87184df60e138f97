"""Settings for admins: pipelines and their stages. Parse, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import AuditEntry
from accounts.permissions import admin_required
from crm.http import HtmxHttpRequest, bad_request, form_errors_text
from crm.validation import parse_id
from pipeline import services
from pipeline.defaults import PIPELINE_TEMPLATES
from pipeline.forms import PipelineForm, StageAddForm, StageForm
from pipeline.models import Deal, Pipeline, Stage
from pipeline.views.shared import announce


def _pipeline(pipeline_id: int) -> Pipeline:
    return get_object_or_404(Pipeline, pk=pipeline_id, is_archived=False)


def _stage(stage_id: int) -> Stage:
    return get_object_or_404(
        Stage.objects.select_related("pipeline"), pk=stage_id, is_archived=False
    )


@require_GET
@admin_required
def pipelines(request: HtmxHttpRequest) -> HttpResponse:
    return _pipelines_page(request, PipelineForm())


def _pipelines_page(request, form, status=200):
    rows = list(Pipeline.objects.filter(is_archived=False).order_by("position", "id"))
    counts = dict(
        Stage.objects.active()
        .filter(pipeline__in=rows)
        .values_list("pipeline_id")
        .annotate(n=Count("id"))
    )
    context = {
        "pipelines": [(p, counts.get(p.pk, 0)) for p in rows],
        "form": form,
        "templates": [(key, label, specs) for key, (label, specs) in PIPELINE_TEMPLATES.items()],
        "audit": AuditEntry.objects.filter(scope__startswith="pipeline").select_related("actor")[
            :20
        ],
    }
    return render(request, "pipeline/settings_pipelines.html", context, status=status)


@require_POST
@admin_required
def pipeline_add(request: HtmxHttpRequest) -> HttpResponse:
    form = PipelineForm(request.POST)
    if not form.is_valid():
        return _pipelines_page(request, form, status=422)
    try:
        pipeline = services.pipeline_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            template=form.cleaned_data["template"],
        )
    except services.DomainError as error:
        error.add_to(form)
        return _pipelines_page(request, form, status=422)
    messages.success(request, f"Pipeline “{pipeline.name}” created.")
    return redirect("settings_stages", pipeline.pk)


@require_POST
@admin_required
def pipeline_archive(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline(pipeline_id)
    try:
        services.pipeline_archive(actor=request.user, pipeline_id=pipeline.pk)
        messages.success(request, f"Pipeline “{pipeline.name}” archived. Its deals are kept.")
    except services.DomainError as error:
        messages.error(request, str(error))
    return redirect("settings_pipelines")


@require_POST
@admin_required
def pipeline_step(request: HtmxHttpRequest, pipeline_id: int, direction: str) -> HttpResponse:
    ids = list(
        Pipeline.objects.filter(is_archived=False)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    _pipeline(pipeline_id)
    if direction not in {"up", "down"}:
        raise Http404("Unknown direction.")
    index = ids.index(pipeline_id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        services.pipeline_reorder(actor=request.user, pipeline_ids=ids)
    return redirect("settings_pipelines")


@require_GET
@admin_required
def stages(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    return _stages_page(request, _pipeline(pipeline_id))


def _stages_page(request, pipeline, *, add_form=None, forms=None, status=200):
    stage_list = list(Stage.objects.active().filter(pipeline=pipeline).order_by("position", "id"))
    deal_counts = dict(
        Deal.objects.filter(stage__in=stage_list).values_list("stage_id").annotate(n=Count("id"))
    )
    forms = forms or {}
    context = {
        "pipeline": pipeline,
        "rows": [
            (
                stage,
                deal_counts.get(stage.pk, 0),
                forms.get(stage.pk) or StageForm(stage=stage),
                _removal_target(stage_list, index),
            )
            for index, stage in enumerate(stage_list)
        ],
        "add_form": add_form or StageAddForm(),
        "rename_form": PipelineForm(initial={"name": pipeline.name}),
        "audit": AuditEntry.objects.filter(scope=f"pipeline:{pipeline.pk}").select_related("actor")[
            :30
        ],
    }
    if request.htmx and request.htmx.target == "stage-list":
        return render(request, "pipeline/settings_stages.html#stage_list", context, status=status)
    return render(request, "pipeline/settings_stages.html", context, status=status)


def _removal_target(stage_list: list[Stage], index: int) -> Stage | None:
    """Where a removed stage's deals are proposed to go: the stage just before it, which is
    the step those deals came from (the first stage's deals go to the next one)."""
    if index > 0:
        return stage_list[index - 1]
    return stage_list[1] if len(stage_list) > 1 else None


@require_POST
@admin_required
def pipeline_rename(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline(pipeline_id)
    form = PipelineForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("settings_stages", pipeline.pk)
    try:
        services.pipeline_update(
            actor=request.user, pipeline_id=pipeline.pk, name=form.cleaned_data["name"]
        )
        messages.success(request, "Pipeline renamed.")
    except services.DomainError as error:
        messages.error(request, str(error))
    return redirect("settings_stages", pipeline.pk)


@require_POST
@admin_required
def stage_add(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline(pipeline_id)
    form = StageAddForm(request.POST)
    if form.is_valid():
        try:
            stage = services.stage_add(
                actor=request.user, pipeline_id=pipeline.pk, **form.cleaned_data
            )
        except services.DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, f"Stage “{stage.name}” added.")
            return redirect("settings_stages", pipeline.pk)
    return _stages_page(request, pipeline, add_form=form, status=422)


@require_POST
@admin_required
def stage_edit(request: HtmxHttpRequest, stage_id: int) -> HttpResponse:
    """Save a stage's fields; the board and the in-place rename both post here."""
    stage = _stage(stage_id)
    form = StageForm(request.POST, stage=stage)
    if form.is_valid():
        try:
            services.stage_update(actor=request.user, stage_id=stage.pk, **form.cleaned_data)
        except services.DomainError as error:
            error.add_to(form)
    if form.errors:
        response = _stages_page(request, stage.pipeline, forms={stage.pk: form}, status=422)
        return announce(response, form_errors_text(form), "error") if request.htmx else response
    if request.htmx:
        return announce(
            _stages_page(request, stage.pipeline), f"Stage “{form.cleaned_data['name']}” saved."
        )
    messages.success(request, f"Stage “{form.cleaned_data['name']}” saved.")
    return redirect("settings_stages", stage.pipeline_id)


@require_POST
@admin_required
def stage_order(request: HtmxHttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline(pipeline_id)
    parsed = [parse_id(pk) for pk in request.POST.getlist("stage")]
    ids = [pk for pk in parsed if pk is not None]
    if len(ids) != len(parsed):
        return announce(
            bad_request("Stage ids must be numbers."), "Stage ids must be numbers.", "error"
        )
    try:
        services.stage_reorder(actor=request.user, pipeline_id=pipeline.pk, stage_ids=ids)
    except services.StaleConfiguration as error:
        response = _stages_page(request, pipeline, status=409)
        return announce(response, str(error), "error")
    if request.htmx:
        return announce(_stages_page(request, pipeline), "Stage order saved.")
    messages.success(request, "Stage order saved.")
    return redirect("settings_stages", pipeline.pk)


@require_POST
@admin_required
def stage_step(request: HtmxHttpRequest, stage_id: int, direction: str) -> HttpResponse:
    """Move a stage one place up or down: the keyboard path for reordering."""
    stage = _stage(stage_id)
    if direction not in {"up", "down"}:
        raise Http404("Unknown direction.")
    ids = list(
        Stage.objects.active()
        .filter(pipeline=stage.pipeline)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    index = ids.index(stage.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        services.stage_reorder(actor=request.user, pipeline_id=stage.pipeline_id, stage_ids=ids)
    messages.success(request, f"“{stage.name}” moved {direction}.")
    return redirect(reverse("settings_stages", args=[stage.pipeline_id]) + f"#stage-{stage.pk}")


@require_POST
@admin_required
def stage_remove(request: HtmxHttpRequest, stage_id: int) -> HttpResponse:
    stage = _stage(stage_id)
    target = request.POST.get("target", "")
    target_id = parse_id(target)
    if target and target_id is None:
        messages.error(request, "Choose a stage from the list.")
        return redirect("settings_stages", stage.pipeline_id)
    try:
        moved = services.stage_remove(
            actor=request.user, stage_id=stage.pk, target_stage_id=target_id
        )
    except services.DomainError as error:
        messages.error(request, str(error))
    else:
        suffix = f" Its {moved} deal{'s' if moved != 1 else ''} moved on." if moved else ""
        messages.success(request, f"Stage “{stage.name}” removed.{suffix}")
    return redirect("settings_stages", stage.pipeline_id)
