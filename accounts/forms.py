import zoneinfo
from typing import cast

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import Team, User
from accounts.services import PROFILE_FIELDS


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class StyledForm:
    """Our input styling on every widget (checkboxes keep theirs)."""

    fields: dict[str, forms.Field]  # the form's, once mixed into a form class

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "input")


class UserCreateForm(StyledForm, forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(max_length=254)
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.REP)
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="No team"
    )
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to email an invitation with a link to choose a password.",
    )

    def clean_password(self):
        password = self.cleaned_data["password"]
        if password:
            password_validation.validate_password(password)
        return password


class UserRoleForm(StyledForm, forms.Form):
    role = forms.ChoiceField(choices=User.Role.choices)
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="No team"
    )


class DeactivateForm(StyledForm, forms.Form):
    successor = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        label="Who takes over",
        empty_label="Choose a person",
        error_messages={
            "required": "Choose who takes over the open deals and planned activities.",
            "invalid_choice": "Choose an active user other than the person leaving.",
        },
        help_text="Their open deals and planned activities move to this person; each deal's "
        "history records the new owner.",
    )

    def __init__(self, *args, leaving: User, has_work: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        successor = cast(forms.ModelChoiceField, self.fields["successor"])
        successor.queryset = User.objects.filter(is_active=True).exclude(pk=leaving.pk)
        successor.required = has_work


class AuditFilterForm(forms.Form):
    """The audit log's filters. The page ignores a value that is not valid, as if not given."""

    area = forms.ChoiceField(required=False)
    actor = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    q = forms.CharField(required=False, strip=True)

    def __init__(self, data, *, areas: dict[str, str], actors):
        super().__init__(data)
        cast(forms.ChoiceField, self.fields["area"]).choices = [("", "Everything"), *areas.items()]
        cast(forms.ModelChoiceField, self.fields["actor"]).queryset = actors

    def filters(self) -> tuple[str, User | None, str]:
        """Area, actor and search text, each empty where it was missing or not valid."""
        self.is_valid()
        data = self.cleaned_data
        return data.get("area") or "", data.get("actor"), (data.get("q") or "")[:100]


class TeamForm(StyledForm, forms.Form):
    name = forms.CharField(max_length=100)


class TeamManagerForm(StyledForm, forms.Form):
    manager = forms.TypedChoiceField(coerce=int, label="Manager")

    def __init__(self, *args, people: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        # One list of people for every team's form on the page: one query, not one per team.
        cast(forms.ChoiceField, self.fields["manager"]).choices = [("", "Choose a person")] + [
            (person.pk, str(person)) for person in people
        ]


def manager_candidates() -> list[User]:
    """Who can be made a team's manager: active people who are not admins."""
    return list(
        User.objects.filter(is_active=True)
        .exclude(role=User.Role.ADMIN)
        .order_by("first_name", "last_name", "username")
    )


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class ProfileForm(StyledForm, forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices)

    class Meta:
        model = User
        fields = list(PROFILE_FIELDS)
        labels = {"reminder_lead_minutes": "Reminder lead time (minutes)"}
        help_texts = {
            "email": "Reminders, alerts and password resets go here.",
            "time_zone": "Due dates and times are shown in this zone.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["email"].required = True
        cast(forms.IntegerField, self.fields["reminder_lead_minutes"]).min_value = 0
        self.fields["reminder_lead_minutes"].widget.attrs["class"] = "input input-number"

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.exclude(pk=self.instance.pk).filter(email__iexact=email).exists():
            raise forms.ValidationError("Someone already uses this email address.")
        return email
