"""Small HTTP helpers shared by every app's views."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from accounts.models import User


class HtmxHttpRequest(HttpRequest):
    """A request as our middleware stack hands it over (typed for editors and readers): every
    page but sign-in and the health check requires a signed-in user (crm.settings)."""

    htmx: HtmxDetails
    user: User


def bad_request(message: str) -> HttpResponse:
    """A 400 whose message is plain text: whatever it quotes is never read as markup."""
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _error_text(error: forms.ValidationError) -> str:
    # Django's messages quote what was sent ("Select a valid choice. <value> is not one of
    # the available choices."): say "the value sent" instead, so no answer repeats input.
    params = dict(error.params or {})
    if "value" in params:
        params["value"] = "the value sent"
    return str(error.message % params if params else error.message)


def form_errors_text(form: forms.Form) -> str:
    """All of a form's errors as one sentence-like string, for status messages.

    It never repeats the values sent, so it is safe in a message, a header or a text answer.
    """
    parts = []
    for name, errors in form.errors.as_data().items():
        label = form.fields[name].label or name.replace("_", " ") if name in form.fields else ""
        for error in errors:
            text = _error_text(error)
            parts.append(f"{label.capitalize()}: {text}" if label else text)
    return " ".join(parts)
