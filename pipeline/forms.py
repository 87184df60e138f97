"""Forms parse and shape what users send: types, choices offered, ids, dates in range.

Every business rule and its message lives once, in ``pipeline.services``; a view puts the
service's refusal back onto the form's fields (``DomainError.add_to``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms

from accounts.models import User
from accounts.scope import Scope
from crm.models import Contact, Organization
from crm.validation import MAX_ID, DayField, IdField, StorableTextForm
from pipeline.defaults import PIPELINE_TEMPLATES
from pipeline.models import Activity, Deal, Stage
from pipeline.selectors import BoardFilters, assignable_users, owner_choices

CLOSE_PERIODS = [
    ("", "Any close date"),
    ("overdue", "Close date passed"),
    ("this_month", "Closing this month"),
    ("next_month", "Closing next month"),
    ("this_quarter", "Closing this quarter"),
    ("none", "No close date"),
]


class BoardFilterForm(StorableTextForm, forms.Form):
    owner = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=100, strip=True)
    rotting = forms.BooleanField(required=False)
    close = forms.ChoiceField(required=False, choices=CLOSE_PERIODS)

    def __init__(self, data, *, user: User):
        super().__init__(data)
        self.user = user
        self.people = owner_choices(user)
        kind = Scope.of(user).kind
        scopes = [("me", "My deals")]
        if user.team_id and kind in {"all", "team"}:
            scopes.append(("team", "My team"))
        if kind == "all":
            scopes.append(("all", "Everyone"))
        people = [(str(person.pk), str(person)) for person in self.people if person.pk != user.pk]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", "Default"), *scopes, *people]

    def filters(self) -> BoardFilters:
        data = self.cleaned_data
        return BoardFilters(
            owner=data["owner"], q=data["q"], rotting=data["rotting"], close=data["close"]
        )


class MoveForm(StorableTextForm, forms.Form):
    """A move as the board, the Move menu or the deal page send it."""

    version = IdField()
    stage = IdField(required=False)
    outcome = forms.ChoiceField(
        required=False, choices=[("", ""), ("won", "Won"), ("lost", "Lost")]
    )
    lost_reason = forms.CharField(required=False, strip=True)
    lost_reason_choice = forms.CharField(required=False, max_length=100)
    above = IdField(required=False)
    below = IdField(required=False)
    other_pipeline = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data is None:  # a parent's clean() may return None: Django keeps cleaned_data
            data = self.cleaned_data
        # A typed reason wins over one picked from the list.
        data["lost_reason"] = data.get("lost_reason") or data.get("lost_reason_choice") or ""
        return data


class DealQuickAddForm(StorableTextForm, forms.Form):
    """The small form behind a column's "+": a title, a value and who it is with."""

    # Widget limits are hints for the browser; the services decide what is accepted.
    title = forms.CharField(
        required=False, strip=True, widget=forms.TextInput(attrs={"maxlength": 200})
    )
    value = forms.DecimalField(required=False, max_digits=14, decimal_places=2)
    currency = forms.CharField(
        required=False, strip=True, widget=forms.TextInput(attrs={"maxlength": 3})
    )
    organization_name = forms.CharField(required=False, max_length=200, strip=True)
    organization_id = IdField(required=False, widget=forms.HiddenInput)
    contact_name = forms.CharField(required=False, max_length=200, strip=True)
    contact_id = IdField(required=False, widget=forms.HiddenInput)
    expected_close_date = DayField(required=False)

    def clean_value(self):
        value = self.cleaned_data.get("value")
        return Decimal("0") if value is None else value

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data is None:  # a parent's clean() may return None: Django keeps cleaned_data
            data = self.cleaned_data
        data["organization"] = data["contact"] = None
        if data.get("organization_id"):
            data["organization"] = Organization.objects.filter(pk=data["organization_id"]).first()
            if data["organization"] is None:
                self.add_error("organization_name", "That organization no longer exists.")
        if data.get("contact_id"):
            data["contact"] = Contact.objects.filter(pk=data["contact_id"]).first()
            if data["contact"] is None:
                self.add_error("contact_name", "That contact no longer exists.")
        # A name typed over a chosen record means a different (new) record; no name, none.
        if data["organization"] and data.get("organization_name") != data["organization"].name:
            data["organization"] = None
        if data["contact"] and data.get("contact_name") != str(data["contact"]):
            data["contact"] = None
        return data


class DealEditForm(DealQuickAddForm):
    """The deal page's edit form: the quick-add fields plus the owner."""

    owner = forms.ModelChoiceField(queryset=User.objects.none(), empty_label=None)
    version = IdField(widget=forms.HiddenInput)

    def __init__(self, *args, user: User, deal: Deal, **kwargs):
        kwargs["initial"] = {
            "title": deal.title,
            "value": deal.value,
            "currency": deal.currency,
            "expected_close_date": deal.expected_close_date,
            "owner": deal.owner_id,
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)
        # The people offered: whom the user may choose, and the current owner, kept.
        people = [p.pk for p in assignable_users(user)] + [deal.owner_id]
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = User.objects.filter(
            pk__in=people
        )


class ActivityForm(StorableTextForm, forms.Form):
    """Plan an activity; the due time is read in the user's own time zone."""

    kind = forms.ChoiceField(choices=Activity.Kind.choices)
    subject = forms.CharField(required=False, strip=True)
    due_date = DayField()
    due_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), empty_label=None)
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user: User, keep: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Editing keeps the current assignee choosable even if the user could not pick them.
        people = [p.pk for p in assignable_users(user)] + ([keep.pk] if keep else [])
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = User.objects.filter(
            pk__in=people
        )

    def due_at(self):
        """The due moment as an aware datetime in the user's time zone (09:00 if no time)."""
        data = self.cleaned_data
        zone = self.user.zone
        moment = dt.datetime.combine(data["due_date"], data["due_time"] or dt.time(9, 0))
        return moment.replace(tzinfo=zone)


class PipelineForm(StorableTextForm, forms.Form):
    name = forms.CharField(required=False, strip=True)
    template = forms.ChoiceField(
        choices=[(key, label) for key, (label, _stages) in PIPELINE_TEMPLATES.items()],
        initial="six_stage",
        required=False,
    )

    def clean_template(self) -> str:
        return self.cleaned_data.get("template") or "six_stage"


class StageAddForm(StorableTextForm, forms.Form):
    """A stage's own fields; the service says which values it accepts."""

    name = forms.CharField(
        required=False, strip=True, widget=forms.TextInput(attrs={"maxlength": 60})
    )
    position = forms.IntegerField(required=False, min_value=0)
    probability = forms.IntegerField(
        required=False, initial=20, widget=forms.NumberInput(attrs={"min": 0, "max": 100})
    )
    rotting_days = forms.IntegerField(
        required=False, initial=14, widget=forms.NumberInput(attrs={"min": 1, "max": 3650})
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    goal = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StageForm(StageAddForm):
    """A stage as the settings page edits it, starting from its saved values."""

    position = None  # type: ignore[assignment]  # Django's way to drop an inherited field
    is_won = forms.BooleanField(required=False)

    def __init__(self, data=None, *, stage: Stage, **kwargs):
        fields = ("name", "probability", "rotting_days", "description", "goal", "is_won")
        initial = {name: getattr(stage, name) for name in fields}
        super().__init__(data, initial=initial, **kwargs)


class MoreCardsForm(forms.Form):
    """Where "load more" continues a column: after the card at this position and id."""

    after_position = forms.IntegerField(min_value=-MAX_ID - 1, max_value=MAX_ID)
    after_id = IdField()
