"""Filters for message templates. Contexts hold ISO dates and decimal strings (JSON),
so the templates format them here."""

import datetime as dt
import functools
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language

register = template.Library()


@register.filter
def isodate(value, fmt="M j, Y"):
    """'2026-04-02' -> 'Apr 2, 2026'. Anything that is not an ISO date is shown as is."""
    if not value:
        return ""
    if isinstance(value, dt.date):
        return date_format(value, fmt)
    formatted = _iso_formatted(str(value)[:10], fmt, get_language())
    return value if formatted is None else formatted


@functools.lru_cache(maxsize=4096)
def _iso_formatted(text: str, fmt: str, language: str) -> str | None:
    """Formatted once per date, format and language (None: not an ISO date): an ETA
    change's 2,000 messages carry the same few dates, and formatting one took longer
    than the rest of a subject."""
    try:
        return date_format(dt.date.fromisoformat(text), fmt)
    except ValueError:
        return None


@register.filter
def money(value):
    """'1234.5' -> '$1,234.50'."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return value
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def sum_key(rows, key):
    """Total of one integer field over a list of dicts (e.g. pairs on the lines)."""
    total = 0
    for row in rows or ():
        try:
            total += int(row.get(key) or 0)
        except (TypeError, ValueError, AttributeError):
            continue
    return total
