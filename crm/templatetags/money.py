"""Money as people read it: currency symbol or code, thousands separators."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


def format_money(amount, currency: str = "") -> str:
    """12500 EUR → "€12,500"; 99.5 USD → "$99.50"; 1200 CHF → "1,200 CHF"."""
    try:
        value = Decimal(amount or 0)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    negative = value < 0
    value = abs(value)
    if value == value.to_integral_value():
        number = f"{value.quantize(Decimal('1'), rounding=ROUND_HALF_UP):,}"
    else:
        number = f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    code = (currency or "").upper()
    sign = "−" if negative else ""
    if code in SYMBOLS:
        return f"{sign}{SYMBOLS[code]}{number}"
    return f"{sign}{number} {code}".strip()


@register.filter
def money(amount, currency: str = "") -> str:
    return format_money(amount, currency)
