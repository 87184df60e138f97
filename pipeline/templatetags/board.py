"""Filters the board's cards use: time in stage, rotting, relative dates."""

import datetime as dt
from urllib.parse import urlencode

from django import template
from django.utils import timezone

from crm.templatetags.dates import local
from pipeline import card_html

register = template.Library()


@register.filter
def days_since(moment: dt.datetime | None) -> int:
    if moment is None:
        return 0
    return max((timezone.now() - moment).days, 0)


@register.filter
def relative_day(day: dt.date | dt.datetime | None) -> str:
    """ "today", "tomorrow", "in 3 days", "2 days ago" for a date or a moment."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = local(day).date()
    return card_html.relative_day(day, timezone.localdate())


@register.filter
def is_past(moment: dt.date | dt.datetime | None) -> bool:
    if moment is None:
        return False
    if isinstance(moment, dt.datetime):
        return moment < timezone.now()
    return moment < timezone.localdate()


@register.simple_tag
def query(params: dict, **extra) -> str:
    """A query string from the board's filters plus extra parameters."""
    merged = {**(params or {}), **{k: v for k, v in extra.items() if v is not None}}
    return urlencode(merged)


@register.filter(name="card_html")
def one_card_html(deal):
    """One board card (see ``pipeline.card_html`` for why it is built in Python)."""
    return card_html.render_card(deal)


@register.filter
def cards_html(deals):
    return card_html.render_cards(deals)
