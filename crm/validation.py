"""The checks every piece of user input passes, whichever form, view or service reads it.

Text: PostgreSQL refuses a NUL character in text, and psycopg cannot encode an unpaired
surrogate; either would turn into a server error deep in a query. ``refused_characters`` is the
one test. ``RefuseUnstorableInput`` (a middleware) answers 400 in plain text before any view
parses such a request; ``StorableTextForm`` adds the same test to a form's text fields, for
forms fed from anywhere else.

Dates: every date a person types lies between ``EARLIEST_DAY`` and ``LATEST_DAY``. ``DayField``
checks it in forms, ``day_range_error`` in the services. Rows written before these checks can
still lie far outside; pages show them through ``crm.templatetags.dates``, and on PostgreSQL a
moment Python cannot hold (after year 9999 or before year 1 in UTC) is read as the nearest
one it can (``ClampedTimestampLoader``), so such a row never makes a page fail.

Ids: database ids are 64-bit. A larger number in the URL answers 404 and in a parameter is
not an id (``parse_id``), instead of reaching the database as an overflow.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.http import trigger_client_event

# ---- Text --------------------------------------------------------------------------------------

_REFUSED = re.compile("[\x00\ud800-\udfff]")
REFUSED_TEXT_MESSAGE = (
    "This text contains a character that cannot be stored (a NUL byte or an unpaired "
    "surrogate). Remove it and try again."
)


def refused_characters(text: str) -> bool:
    """Whether ``text`` holds a character the database cannot store."""
    return _REFUSED.search(text) is not None


def validate_storable_text(value) -> None:
    if isinstance(value, str) and refused_characters(value):
        raise ValidationError(REFUSED_TEXT_MESSAGE, code="refused_characters")


class StorableTextForm:
    """Form mixin: every text field of the form refuses characters the database refuses."""

    fields: dict[str, forms.Field]  # the form's, once mixed into a form class

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(validate_storable_text)


def _refused_parameter(request: HttpRequest) -> str | None:
    """What part of the request carries refused characters ("the address", a field name)."""
    if refused_characters(request.path_info):
        return "the address"
    sources = [request.GET]
    if request.method == "POST":
        sources.append(request.POST)
    for source in sources:
        for key, values in source.lists():
            if refused_characters(key):
                return "a field name"
            if any(refused_characters(value) for value in values):
                return f"the field “{key}”"
    return None


MAX_ID = 2**63 - 1  # the largest value of a 64-bit id column


class RefuseUnstorableInput:
    """Answers 400 (plain text, so nothing is echoed as markup) to a request whose address,
    query parameters or form fields carry characters the database cannot store, and 404 to
    an id in the address past 64 bits (SQLite raises an overflow for those)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _refused_parameter(request)
        if where is not None:
            message = f"{REFUSED_TEXT_MESSAGE} It is in {where}."
            response = HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
            if request.headers.get("HX-Request"):
                trigger_client_event(
                    response, "crm:announce", {"message": message, "level": "error"}
                )
            return response
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and not -MAX_ID - 1 <= value <= MAX_ID:
                raise Http404("No such object.")
        return None


def parse_id(text) -> int | None:
    """An id from a query or form parameter: plain ASCII digits within 64 bits, else None.

    ``"²".isdigit()`` is true but ``int("²")`` fails, and ``int("1" * 30)`` overflows the
    database: neither is an id.
    """
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class IdField(forms.IntegerField):
    """An id in a form: a positive whole number that fits a 64-bit column."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


# ---- Dates -------------------------------------------------------------------------------------

EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2200, 12, 31)
DAY_RANGE_MESSAGE = (
    f"Choose a date between {EARLIEST_DAY.day} {EARLIEST_DAY:%b} {EARLIEST_DAY.year} "
    f"and {LATEST_DAY.day} {LATEST_DAY:%b} {LATEST_DAY.year}."
)


def day_range_error(value: dt.date | dt.datetime | None) -> str | None:
    """What is wrong with a date or moment a person gave, or None if it is in range.

    A moment is judged by its date where it was entered (its own time zone), so the day a
    form accepted is the day the service accepts.
    """
    if value is None:
        return None
    day = value.date() if isinstance(value, dt.datetime) else value
    return None if EARLIEST_DAY <= day <= LATEST_DAY else DAY_RANGE_MESSAGE


def validate_day(value) -> None:
    if (message := day_range_error(value)) is not None:
        raise ValidationError(message, code="day_out_of_range")


class DayField(forms.DateField):
    """A date a person types: a date picker limited to the range every form and service uses."""

    default_validators = [validate_day]

    def __init__(self, **kwargs):
        attrs = {"type": "date", "min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat()}
        kwargs.setdefault("widget", forms.DateInput(attrs=attrs))
        super().__init__(**kwargs)


def _clamped_timestamp_loader(
    base: type[Any], zone: dt.tzinfo | None, error: type[Exception]
) -> type[Any]:
    class ClampedTimestampLoader(base):
        """A timestamptz Python cannot hold loads as the nearest moment it can.

        PostgreSQL stores moments up to year 294276 and back to 4713 BC; an aware datetime
        written before the date checks (9999-12-31 23:00 at UTC-12 is 10000-01-01 in UTC)
        would otherwise make every query that reads its row fail.
        """

        timezone = zone

        def load(self, data):
            try:
                return super().load(data)
            except error:  # out of Python's range
                text = bytes(data)
                earliest = text.endswith(b"BC") or text == b"-infinity"
                moment = dt.datetime.min if earliest else dt.datetime.max
                return moment.replace(tzinfo=self.timezone)

    return ClampedTimestampLoader


def _install_clamped_timestamps(connection) -> None:
    if connection.vendor != "postgresql" or connection.connection is None:
        return
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader, is_psycopg3

    if is_psycopg3:
        from psycopg import DataError

        # The same time zone as Django's own loader, so Django keeps this one on its cursors.
        loader = _clamped_timestamp_loader(BaseTzLoader, connection.timezone, DataError)
        connection.connection.adapters.register_loader("timestamptz", loader)


@receiver(connection_created, dispatch_uid="crm.validation.clamped_timestamps")
def _on_connection_created(sender, connection, **kwargs) -> None:
    _install_clamped_timestamps(connection)


# Importing this module installs the loader: the middleware does in the web process, and
# pipeline.services (which every task imports) in workers, before their first query. This
# covers a connection opened earlier, such as one a management command made first.
for _connection in connections.all(initialized_only=True):
    _install_clamped_timestamps(_connection)
