"""The reports page's query parameters: pipeline, period and (for admins) team.

Every choice lives in the URL, so a report can be bookmarked and shared. Bad values never
reach the metrics: the form says what is wrong and the page answers 400.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from accounts.models import Team, User
from accounts.scope import Scope
from crm.validation import day_range_error
from pipeline.models import Pipeline
from reports.selectors import Period

PERIODS = [
    ("quarter", "This quarter"),
    ("month", "This month"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("year", "This year"),
    ("custom", "Custom"),
]
MAX_DAYS = 3 * 366


def period_days(code: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a named period that ends today at the latest."""
    if code == "month":
        return today.replace(day=1), today
    if code == "30d":
        return today - dt.timedelta(days=29), today
    if code == "90d":
        return today - dt.timedelta(days=89), today
    if code == "year":
        return today.replace(month=1, day=1), today
    return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today


class ReportFilterForm(forms.Form):
    pipeline = forms.ModelChoiceField(
        queryset=Pipeline.objects.filter(is_archived=False), required=False, empty_label=None
    )
    period = forms.ChoiceField(choices=PERIODS, required=False)
    start = forms.DateField(required=False, label="From")
    end = forms.DateField(required=False, label="To")
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="All teams"
    )

    def __init__(self, data, *, user: User, pipelines: list[Pipeline], today: dt.date):
        super().__init__(data)
        self.user, self.today = user, today
        cast(forms.ModelChoiceField, self.fields["pipeline"]).queryset = Pipeline.objects.filter(
            pk__in=[p.pk for p in pipelines]
        )
        self.fields["pipeline"].error_messages["invalid_choice"] = "There is no such pipeline."
        self.fields["team"].error_messages["invalid_choice"] = "There is no such team."
        self.pipelines = pipelines
        if Scope.of(user).kind != "all":
            # Only those who see everyone choose a team; anyone else's team parameter is
            # ignored, not leaked.
            del self.fields["team"]

    def clean_pipeline(self) -> Pipeline | None:
        return self.cleaned_data.get("pipeline") or (self.pipelines[0] if self.pipelines else None)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data is None:  # a parent's clean() may return None: Django keeps cleaned_data
            data = self.cleaned_data
        code = data.get("period") or "quarter"
        data["period"] = code
        if code == "custom":
            first, last = data.get("start"), data.get("end")
            if not first or not last:
                raise forms.ValidationError("A custom period needs a first and a last day.")
            if first > last:
                raise forms.ValidationError("The first day must not be after the last day.")
            if first > self.today:
                raise forms.ValidationError("The period cannot start in the future.")
            if (last - first).days >= MAX_DAYS:
                raise forms.ValidationError("Choose a period of at most three years.")
            if message := day_range_error(first) or day_range_error(last):
                raise forms.ValidationError(message)
        elif not self.errors:
            data["start"], data["end"] = period_days(code, self.today)
        return data

    def chosen_period(self) -> Period:
        data = self.cleaned_data
        return Period(
            code=data["period"], first=data["start"], last=data["end"], zone=self.user.zone
        )

    def query(self, **override) -> dict[str, str]:
        """The report's URL parameters, for links, CSV exports and the filter bar."""
        data = self.cleaned_data
        params = {
            "pipeline": str(data["pipeline"].pk) if data.get("pipeline") else "",
            "period": data["period"],
        }
        if data["period"] == "custom":
            params["start"], params["end"] = data["start"].isoformat(), data["end"].isoformat()
        if data.get("team"):
            params["team"] = str(data["team"].pk)
        params.update(override)
        return {key: value for key, value in params.items() if value}
