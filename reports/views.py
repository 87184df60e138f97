"""Stage metrics for managers: the reports page and its CSV exports.

Parse the filters, call ``reports.selectors``, render. Who sees which deals is decided by
``Deal.objects.visible_to`` inside the metrics; bad parameters answer 400 with the reason.
"""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm.http import HtmxHttpRequest
from pipeline import selectors
from reports import selectors as metrics
from reports.forms import PERIODS, ReportFilterForm


def _form(request: HtmxHttpRequest) -> ReportFilterForm:
    today = timezone.localtime(timezone.now(), request.user.zone).date()
    pipelines = selectors.active_pipelines()
    return ReportFilterForm(request.GET, user=request.user, pipelines=pipelines, today=today)


def _report(form: ReportFilterForm, request: HtmxHttpRequest) -> metrics.Report | None:
    if not form.is_valid() or form.cleaned_data["pipeline"] is None:
        return None
    return metrics.cached_stage_report(
        user=request.user,
        pipeline=form.cleaned_data["pipeline"],
        period=form.chosen_period(),
        team=form.cleaned_data.get("team"),
    )


@require_GET
def reports(request: HtmxHttpRequest) -> HttpResponse:
    form = _form(request)
    report = _report(form, request)
    context: dict[str, Any] = {
        "form": form,
        "report": report,
        "periods": PERIODS,
        "query_string": urlencode(form.query()) if report else "",
        "tables": metrics.TABLES,
    }
    if report:
        context["stage_table"] = metrics.by_stage_then_rep(report)
    status = 400 if form.errors else 200
    with timezone.override(request.user.zone):
        return render(request, "reports/reports.html", context, status=status)


@require_GET
def reports_csv(request: HtmxHttpRequest, table: str) -> HttpResponse:
    if table not in metrics.TABLES:
        raise Http404("No such table.")
    form = _form(request)
    report = _report(form, request)
    if report is None:
        errors = "; ".join(str(msg) for msgs in form.errors.values() for msg in msgs)
        return HttpResponse(errors or "No pipeline.", status=400, content_type="text/plain")
    header, rows = metrics.table(report, table)
    period = report.period
    name = f"{table}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response
