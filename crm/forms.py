from typing import cast

from django import forms

from crm.models import Contact, Organization
from crm.validation import StorableTextForm


class _Styled(StorableTextForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "input")


class OrganizationForm(_Styled, forms.ModelForm):
    website = forms.URLField(required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Organization
        fields = ["name", "website", "industry", "phone", "city", "country"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the organization a name.")
        return name


class ContactForm(_Styled, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "phone", "job_title", "organization"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = cast(forms.ModelChoiceField, self.fields["organization"])
        organization.queryset = Organization.objects.order_by("name")
        organization.empty_label = "No organization"

    def clean_first_name(self):
        name = self.cleaned_data["first_name"].strip()
        if not name:
            raise forms.ValidationError("Enter a first name.")
        return name
