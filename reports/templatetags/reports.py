"""Formatting for the reports page: the same rounding as the CSV export."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(ratio) -> str:
    return "–" if ratio is None else f"{float(ratio) * 100:.1f} %"


@register.filter
def days(value) -> str:
    return "–" if value is None else f"{float(value):.1f}"


@register.filter
def bar(value, widest) -> str:
    """A bar's width as a share of the widest bar, for an SVG ``width`` attribute."""
    if not widest or not value:
        return "0%"
    return f"{max(0.5, float(value) / float(widest) * 100):.1f}%"


@register.filter
def stage_label(stage) -> str:
    if stage is None:
        return "Won"
    return f"{stage.name} (removed)" if stage.is_archived else stage.name
