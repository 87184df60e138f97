"""Forms parse and check what users send; business rules stay in ``pipeline.services``."""

from __future__ import annotations

import datetime as dt

from django import forms

from accounts.models import User
from accounts.scope import Scope
from crm.models import Contact, Organization
from crm.validation import MAX_ID, DayField, IdField, StorableTextForm
from pipeline.defaults import PIPELINE_TEMPLATES
from pipeline.models import Activity, Deal, Stage
from pipeline.selectors import BoardFilters, assignable_users, owner_choices
from pipeline.services import LOST_REASON_MAX

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
        self.fields["owner"].choices = [("", "Default"), *scopes, *people]

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
    lost_reason = forms.CharField(required=False, max_length=LOST_REASON_MAX, strip=True)
    lost_reason_choice = forms.CharField(required=False, max_length=100)
    above = IdField(required=False)
    below = IdField(required=False)
    other_pipeline = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if bool(data.get("stage")) == bool(data.get("outcome")):
            raise forms.ValidationError("Choose a stage, or mark the deal won or lost.")
        if data.get("outcome") == "lost":
            reason = data.get("lost_reason") or data.get("lost_reason_choice") or ""
            if not reason.strip():
                self.add_error("lost_reason", "Say why the deal was lost.")
            data["lost_reason"] = reason.strip()
        return data


class DealQuickAddForm(StorableTextForm, forms.ModelForm):
    """The small form behind a column's "+": a title, a value and who it is with."""

    organization_name = forms.CharField(required=False, max_length=200, strip=True)
    organization_id = IdField(required=False, widget=forms.HiddenInput)
    contact_name = forms.CharField(required=False, max_length=200, strip=True)
    contact_id = IdField(required=False, widget=forms.HiddenInput)
    expected_close_date = DayField(required=False)

    class Meta:
        model = Deal
        fields = ["title", "value", "currency", "expected_close_date"]

    def clean_currency(self) -> str:
        code = (self.cleaned_data.get("currency") or "").strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise forms.ValidationError("Use a three-letter currency code such as EUR.")
        return code

    def clean(self):
        data = super().clean()
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

    def clean_value(self):
        value = self.cleaned_data.get("value")
        if value is not None and value < 0:
            raise forms.ValidationError("A deal's value cannot be negative.")
        return value


class DealEditForm(DealQuickAddForm):
    """The deal page's edit form: the quick-add fields plus the owner."""

    owner = forms.ModelChoiceField(queryset=User.objects.none(), empty_label=None)
    version = IdField(widget=forms.HiddenInput)

    class Meta(DealQuickAddForm.Meta):
        fields = [*DealQuickAddForm.Meta.fields, "owner"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        people = assignable_users(user)
        instance_owner = self.instance.owner if self.instance.pk else None
        if instance_owner is not None and instance_owner not in people:
            people = [instance_owner, *people]  # keep the current owner selectable
        self.fields["owner"].queryset = User.objects.filter(pk__in=[p.pk for p in people])
        self.allowed_owner_ids = {p.pk for p in assignable_users(user)} | {
            getattr(instance_owner, "pk", None)
        }

    def clean_owner(self):
        owner = self.cleaned_data["owner"]
        if owner.pk not in self.allowed_owner_ids:
            raise forms.ValidationError("You cannot give this deal to that person.")
        return owner


class ActivityForm(StorableTextForm, forms.Form):
    """Plan an activity; the due time is read in the user's own time zone."""

    kind = forms.ChoiceField(choices=Activity.Kind.choices)
    subject = forms.CharField(max_length=200, strip=True)
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
        self.fields["assignee"].queryset = User.objects.filter(pk__in=people)

    def due_at(self):
        """The due moment as an aware datetime in the user's time zone (09:00 if no time)."""
        data = self.cleaned_data
        zone = self.user.zone
        moment = dt.datetime.combine(data["due_date"], data["due_time"] or dt.time(9, 0))
        return moment.replace(tzinfo=zone)


class PipelineForm(StorableTextForm, forms.Form):
    name = forms.CharField(max_length=100, strip=True)
    template = forms.ChoiceField(
        choices=[(key, label) for key, (label, _stages) in PIPELINE_TEMPLATES.items()],
        initial="six_stage",
        required=False,
    )

    def clean_template(self) -> str:
        return self.cleaned_data.get("template") or "six_stage"


class StageForm(StorableTextForm, forms.ModelForm):
    """A stage's own fields, as the settings page edits them."""

    probability = forms.IntegerField(min_value=0, max_value=100)
    rotting_days = forms.IntegerField(required=False, min_value=1, max_value=3650)

    class Meta:
        model = Stage
        fields = ["name", "probability", "rotting_days", "description", "goal", "is_won"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "goal": forms.Textarea(attrs={"rows": 2}),
        }

    def validate_unique(self):
        """Name clashes are checked by the service, with a message for the field."""


class StageAddForm(StorableTextForm, forms.Form):
    name = forms.CharField(max_length=60, strip=True)
    position = forms.IntegerField(required=False, min_value=0)
    probability = forms.IntegerField(min_value=0, max_value=100, initial=20)
    rotting_days = forms.IntegerField(required=False, min_value=1, max_value=3650, initial=14)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    goal = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class MoreCardsForm(forms.Form):
    """Where "load more" continues a column: after the card at this position and id."""

    after_position = forms.IntegerField(min_value=-MAX_ID - 1, max_value=MAX_ID)
    after_id = IdField()
