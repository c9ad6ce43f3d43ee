"""Business-day arithmetic for promise dates (weekends never ship)."""

import datetime as dt


def add_business_days(start: dt.date, days: int) -> dt.date:
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    while current.weekday() >= 5:
        current += dt.timedelta(days=1)
    return current
