"""The money filter: currency symbol or code, thousands separators, no needless decimals."""

from decimal import Decimal

import pytest

from crm.templatetags.money import format_money, money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("12500.00"), "EUR", "€12,500"),
        (Decimal("1200"), "USD", "$1,200"),
        (900, "GBP", "£900"),
        (Decimal("12500"), "CHF", "12,500 CHF"),
        (Decimal("1234567.00"), "SEK", "1,234,567 SEK"),
    ],
)
def test_whole_amounts_show_symbol_or_code_with_thousands_separators(amount, currency, expected):
    assert format_money(amount, currency) == expected


def test_cents_are_kept_when_there_are_any():
    assert format_money(Decimal("99.5"), "USD") == "$99.50"


def test_a_lowercase_currency_code_is_read_as_uppercase():
    assert format_money(Decimal("10"), "eur") == "€10"


def test_a_negative_amount_carries_a_minus_sign_before_the_symbol():
    assert format_money(Decimal("-1500"), "EUR") == "−€1,500"


def test_no_amount_reads_as_zero():
    assert format_money(None, "EUR") == "€0"


def test_an_amount_that_is_not_a_number_renders_nothing():
    assert format_money("n/a", "EUR") == ""


def test_without_a_currency_only_the_number_is_shown():
    assert format_money(Decimal("2500"), "") == "2,500"


def test_the_template_filter_is_the_same_function():
    assert money(Decimal("12500"), "EUR") == format_money(Decimal("12500"), "EUR")
