from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pipeline import selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    pipeline = selectors.default_pipeline()
    stages = selectors.stage_summaries(pipeline=pipeline, user=request.user) if pipeline else []
    return render(request, "pipeline/home.html", {"pipeline": pipeline, "stages": stages})
