"""What a cell holds: text that a spreadsheet would run as a formula is quoted; numbers
and dates stay numbers and dates (a negative amount is not text)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from orders.exports import FORMULA_PREFIXES, cell


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_text_that_would_start_a_formula_gets_a_leading_quote(prefix):
    assert cell(f"{prefix}SUM(A1:A9)") == f"'{prefix}SUM(A1:A9)"


@pytest.mark.parametrize("value", ["PO 1=2", "Shoes+More", "a-b", "x@y", "", "SO-100042"])
def test_other_text_is_left_alone(value):
    assert cell(value) == value


@pytest.mark.parametrize(
    "value", [Decimal("-12.50"), -3, 0, dt.date(2026, 3, 1), Decimal("1999.99")]
)
def test_numbers_and_dates_stay_themselves(value):
    assert cell(value) == value


def test_empty_booleans_and_times_read_as_a_person_would():
    assert cell(None) == ""
    assert (cell(True), cell(False)) == ("yes", "no")
    moment = dt.datetime(2026, 3, 1, 14, 5, tzinfo=dt.UTC)
    with timezone.override(ZoneInfo("Europe/Paris")):
        assert cell(moment) == "2026-03-01 15:05"  # the local time
