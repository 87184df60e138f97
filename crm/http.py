"""Small HTTP helpers shared by every app's views."""

from django import forms
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as our middleware stack hands it over (typed for editors and readers)."""

    htmx: HtmxDetails


def form_errors_text(form: forms.Form) -> str:
    """All of a form's errors as one sentence-like string, for status messages."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label or name.replace("_", " ") if name in form.fields else ""
        for error in errors:
            parts.append(f"{label.capitalize()}: {error}" if label else str(error))
    return " ".join(parts)
