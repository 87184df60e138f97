"""Dates and times as the viewer reads them, for any row, however odd.

Django's ``date`` and ``time`` filters convert a moment to the current time zone first, and
that conversion overflows near the ends of Python's range: 9999-12-31 23:00 UTC has no
local time at UTC+14, 0001-01-01 00:00 UTC none at UTC-12. Such rows exist (written before
dates were bounded, see ``crm.validation``); one of them must not make a page fail for
everyone who sees it. These filters show such a moment in UTC instead.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.template import defaultfilters
from django.utils import timezone

register = template.Library()


def local(moment: dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    """``moment`` in ``zone`` (the current time zone by default), or as it is (in UTC, as
    read from the database) where that zone cannot show it: within a day of year 1 or 9999."""
    if timezone.is_naive(moment):
        return moment
    try:
        return moment.astimezone(zone or timezone.get_current_timezone())
    except (OverflowError, ValueError):
        return moment


def _local(value):
    return local(value) if isinstance(value, dt.datetime) else value


@register.filter(expects_localtime=False)
def local_date(value, arg=None):
    """Django's ``date`` filter, in the viewer's time zone wherever the moment allows."""
    return defaultfilters.date(_local(value), arg)


@register.filter(expects_localtime=False)
def local_time(value, arg=None):
    """Django's ``time`` filter, in the viewer's time zone wherever the moment allows."""
    return defaultfilters.time(_local(value), arg)
