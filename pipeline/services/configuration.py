"""What admins shape: pipelines and their stages (add, rename, reorder, remove, archive).

Stage changes of one pipeline happen one at a time (its row is locked), and every stage row a
change rewrites is locked in id order, as the board's writers lock them
(``pipeline.services.columns``). Each change writes its audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from accounts.audit import audit_record
from accounts.errors import Invalid, NotFound, require_admin
from accounts.models import User
from pipeline.defaults import PIPELINE_TEMPLATES
from pipeline.models import Deal, Pipeline, Stage
from pipeline.services.columns import renumber_column
from pipeline.services.errors import StaleConfiguration
from pipeline.services.moves import deal_move


def _require_admin(actor: User) -> None:
    require_admin(actor, "Only administrators can change pipelines and stages.")


def _audit(
    actor: User,
    *,
    action: str,
    pipeline_id: int,
    summary: str,
    changes: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor, action=action, scope=f"pipeline:{pipeline_id}", summary=summary, changes=changes
    )


def _locked_pipeline(pipeline_id: int) -> Pipeline:
    """The pipeline row locked: stage changes of one pipeline happen one at a time."""
    pipeline = Pipeline.objects.select_for_update().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound("This pipeline does not exist.")
    return pipeline


def _check_stage_values(
    *,
    pipeline: Pipeline,
    name: str,
    probability: int | None,
    rotting_days: int | None,
    exclude: int | None = None,
) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid({"name": "A stage needs a name."})
    if len(name) > 60:
        raise Invalid({"name": "Keep stage names under 60 characters."})
    taken = Stage.objects.active().filter(pipeline=pipeline, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise Invalid({"name": f"This pipeline already has a stage called “{name}”."})
    if probability is None or not 0 <= probability <= 100:
        raise Invalid({"probability": "Win probability must be between 0 and 100."})
    if rotting_days is not None and not 0 < rotting_days <= 3650:
        raise Invalid({"rotting_days": "Rotting days must be between 1 and 3650, or empty."})
    return name


def _active_stages(pipeline: Pipeline) -> list[Stage]:
    """The pipeline's active stages in board order, their rows locked (in id order, as every
    writer locks stage rows) since the caller is about to rewrite some of them."""
    rows = Stage.objects.active().filter(pipeline=pipeline).select_for_update(no_key=True)
    return sorted(rows.order_by("pk"), key=lambda stage: (stage.position, stage.pk))


def _lock_pipelines() -> list[Pipeline]:
    """Lock every pipeline row (in id order) before a change that reads the others: a name
    that must stay unique, the next position, the last active pipeline."""
    return list(Pipeline.objects.select_for_update().order_by("pk"))


def _locked_one_of_all(pipeline_id: int) -> Pipeline:
    """``pipeline_id`` as it is now, with every pipeline row locked (see above)."""
    found = next((p for p in _lock_pipelines() if p.pk == pipeline_id), None)
    if found is None:
        raise NotFound("This pipeline does not exist.")
    return found


def _locked_stage(stage_id: int) -> tuple[Stage, Pipeline, list[Stage]]:
    """An active stage as it is now, its pipeline and the pipeline's active stages, all
    locked (the pipeline first, then every stage row in id order)."""
    found = Stage.objects.active().filter(pk=stage_id).values_list("pipeline_id", flat=True)
    pipeline_id = found.first()
    if pipeline_id is None:
        raise NotFound("This stage does not exist.")
    pipeline = _locked_pipeline(pipeline_id)
    stages = _active_stages(pipeline)
    stage = next((s for s in stages if s.pk == stage_id), None)
    if stage is None:  # removed while we waited for the lock
        raise NotFound("This stage does not exist.")
    return stage, pipeline, stages


def _save_order(stages: list[Stage]) -> None:
    for index, stage in enumerate(stages):
        stage.position = index
    Stage.objects.bulk_update(stages, ["position"])


def stage_add(
    *,
    actor: User,
    pipeline_id: int,
    name: str,
    position: int | None = None,
    probability: int = 10,
    rotting_days: int | None = 14,
    description: str = "",
    goal: str = "",
) -> Stage:
    """Add a stage at ``position`` (0 = first; None = last)."""
    _require_admin(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        name = _check_stage_values(
            pipeline=pipeline, name=name, probability=probability, rotting_days=rotting_days
        )
        stages = _active_stages(pipeline)
        index = len(stages) if position is None else max(0, min(position, len(stages)))
        stage = Stage.objects.create(
            pipeline=pipeline,
            name=name,
            position=index,
            probability=probability,
            rotting_days=rotting_days,
            description=description,
            goal=goal,
        )
        stages.insert(index, stage)
        _save_order(stages)
        _audit(
            actor,
            action="stage_added",
            pipeline_id=pipeline.pk,
            summary=f"Added stage “{name}” at position {index + 1}",
        )
    return stage


STAGE_FIELDS = ("name", "probability", "rotting_days", "description", "goal", "is_won")


def stage_update(*, actor: User, stage_id: int, **values: Any) -> Stage:
    """Rename a stage or change its probability, rotting days, texts or post-sale flag."""
    _require_admin(actor)
    unknown = set(values) - set(STAGE_FIELDS)
    if unknown:
        raise Invalid(f"These stage fields cannot be changed: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        stage, pipeline, stages = _locked_stage(stage_id)
        merged = {name: values.get(name, getattr(stage, name)) for name in STAGE_FIELDS}
        merged["name"] = _check_stage_values(
            pipeline=pipeline,
            name=merged["name"],
            probability=merged["probability"],
            rotting_days=merged["rotting_days"],
            exclude=stage.pk,
        )
        if merged["is_won"] and not stage.is_won:
            if Deal.objects.filter(stage=stage, status=Deal.Status.OPEN).exists():
                raise Invalid(
                    f"“{stage.name}” holds open deals. Move them on before making it the "
                    "post-sale (won) stage."
                )
            previous = [s for s in stages if s.is_won]
            Stage.objects.filter(pk__in=[s.pk for s in previous]).update(is_won=False)
            # Their won deals leave the board; the new post-sale stage's won deals join it.
            Deal.objects.filter(stage__in=previous, status=Deal.Status.WON).update(position=None)
        changes = {
            name: [getattr(stage, name), merged[name]]
            for name in STAGE_FIELDS
            if getattr(stage, name) != merged[name]
        }
        if not changes:
            return stage
        for name, value in merged.items():
            setattr(stage, name, value)
        stage.save(update_fields=list(STAGE_FIELDS))
        if "is_won" in changes and stage.is_won:
            renumber_column(stage)  # its won deals now show in the column
        elif "is_won" in changes:
            Deal.objects.filter(stage=stage, status=Deal.Status.WON).update(position=None)
        described = (
            ", ".join(
                f"{name.replace('_', ' ')} {old!r} → {new!r}"
                for name, (old, new) in changes.items()
                if name not in {"description", "goal"}
            )
            or "texts updated"
        )
        _audit(
            actor,
            action="stage_changed",
            pipeline_id=pipeline.pk,
            summary=f"Changed stage “{stage.name}”: {described}"[:300],
            changes={k: [str(a), str(b)] for k, (a, b) in changes.items()},
        )
    return stage


def stage_reorder(*, actor: User, pipeline_id: int, stage_ids: list[int]) -> list[Stage]:
    """Put a pipeline's stages in the given order. The list must name every active stage
    exactly once, so two admins reordering at once can neither lose nor duplicate one."""
    _require_admin(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        stages = {stage.pk: stage for stage in _active_stages(pipeline)}
        if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != set(stages):
            raise StaleConfiguration(
                "The stages changed since this page was loaded. Reload it and try again."
            )
        ordered = [stages[pk] for pk in stage_ids]
        before = [s.name for s in sorted(stages.values(), key=lambda s: (s.position, s.pk))]
        _save_order(ordered)
        after = [s.name for s in ordered]
        if before != after:
            _audit(
                actor,
                action="stages_reordered",
                pipeline_id=pipeline.pk,
                summary=("New stage order: " + " → ".join(after))[:300],
                changes={"order": [before, after]},
            )
    return ordered


def stage_remove(*, actor: User, stage_id: int, target_stage_id: int | None) -> int:
    """Archive a stage, first moving every deal in it (open, won or lost) to the target stage
    through ``deal_move``, each with its own history row. Returns how many deals moved."""
    _require_admin(actor)
    with transaction.atomic():
        # Every column of the pipeline is locked from here on: no card can enter the stage
        # after its deals have been listed, and the moves below wait for no other lock.
        stage, pipeline, stages = _locked_stage(stage_id)
        open_left = [s for s in stages if s.pk != stage.pk and not s.is_won]
        if not open_left:
            raise Invalid("A pipeline keeps at least one open stage.")
        deal_ids = list(Deal.objects.filter(stage=stage).values_list("pk", flat=True))
        target = next((s for s in stages if s.pk == target_stage_id and s.pk != stage.pk), None)
        if deal_ids:
            if target is None:
                raise Invalid(f"Choose the stage that the deals in “{stage.name}” move to.")
            for deal_id in deal_ids:
                version = Deal.objects.filter(pk=deal_id).values_list("version", flat=True).get()
                deal_move(
                    actor=actor,
                    deal_id=deal_id,
                    version=version,
                    stage_id=target.pk,
                    keep_status=True,
                    note=f"Stage “{stage.name}” removed",
                )
        stage.is_archived = True
        stage.save(update_fields=["is_archived"])
        _save_order([s for s in stages if s.pk != stage.pk])
        moved = f"; {len(deal_ids)} deal(s) moved to “{target.name}”" if target and deal_ids else ""
        _audit(
            actor,
            action="stage_removed",
            pipeline_id=pipeline.pk,
            summary=f"Removed stage “{stage.name}”{moved}",
        )
    return len(deal_ids)


def pipeline_create(*, actor: User, name: str, template: str) -> Pipeline:
    _require_admin(actor)
    if template not in PIPELINE_TEMPLATES:
        raise Invalid({"template": "Choose one of the offered templates."})
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid({"name": "A pipeline needs a name of at most 100 characters."})
    with transaction.atomic():
        _lock_pipelines()
        if Pipeline.objects.filter(is_archived=False, name__iexact=name).exists():
            raise Invalid({"name": f"A pipeline called “{name}” already exists."})
        last = Pipeline.objects.aggregate(last=Max("position"))["last"]
        pipeline = Pipeline.objects.create(name=name, position=(last or 0) + 1)
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, position=index, **spec)
            for index, spec in enumerate(PIPELINE_TEMPLATES[template][1])
        )
        _audit(
            actor,
            action="pipeline_created",
            pipeline_id=pipeline.pk,
            summary=f"Created pipeline “{name}” from “{PIPELINE_TEMPLATES[template][0]}”",
        )
    return pipeline


def pipeline_update(*, actor: User, pipeline_id: int, name: str) -> Pipeline:
    _require_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid({"name": "A pipeline needs a name of at most 100 characters."})
    with transaction.atomic():
        pipeline = _locked_one_of_all(pipeline_id)
        taken = Pipeline.objects.filter(is_archived=False, name__iexact=name).exclude(
            pk=pipeline.pk
        )
        if taken.exists():
            raise Invalid({"name": f"A pipeline called “{name}” already exists."})
        if pipeline.name != name:
            _audit(
                actor,
                action="pipeline_renamed",
                pipeline_id=pipeline.pk,
                summary=f"Renamed pipeline “{pipeline.name}” to “{name}”",
            )
            pipeline.name = name
            pipeline.save(update_fields=["name"])
    return pipeline


def pipeline_archive(*, actor: User, pipeline_id: int) -> Pipeline:
    """Hide a pipeline from boards and switchers; its deals and history stay."""
    _require_admin(actor)
    with transaction.atomic():
        pipeline = _locked_one_of_all(pipeline_id)
        if not Pipeline.objects.filter(is_archived=False).exclude(pk=pipeline.pk).exists():
            raise Invalid("Keep at least one active pipeline.")
        pipeline.is_archived = True
        pipeline.save(update_fields=["is_archived"])
        _audit(
            actor,
            action="pipeline_archived",
            pipeline_id=pipeline.pk,
            summary=f"Archived pipeline “{pipeline.name}”",
        )
    return pipeline


def pipeline_reorder(*, actor: User, pipeline_ids: list[int]) -> None:
    _require_admin(actor)
    with transaction.atomic():
        _lock_pipelines()
        pipelines = {p.pk: p for p in Pipeline.objects.filter(is_archived=False)}
        if len(pipeline_ids) != len(set(pipeline_ids)) or set(pipeline_ids) != set(pipelines):
            raise StaleConfiguration("The pipelines changed meanwhile. Reload and try again.")
        before = [p.name for p in sorted(pipelines.values(), key=lambda p: (p.position, p.pk))]
        for index, pk in enumerate(pipeline_ids):
            pipelines[pk].position = index
        Pipeline.objects.bulk_update(pipelines.values(), ["position"])
        after = [pipelines[pk].name for pk in pipeline_ids]
        if before != after:
            audit_record(
                actor,
                action="pipelines_reordered",
                scope="pipelines",
                summary="New pipeline order: " + " → ".join(after),
                changes={"order": [before, after]},
            )
