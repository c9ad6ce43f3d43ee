"""The evening snapshot behind the promise report's pair-days."""

import datetime as dt

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from backorders.models import PromiseDay
from backorders.promise_report import pairs_free_while_waiting, pairs_past_window
from orders.models import OrderLine


@transaction.atomic(durable=True)
def promise_day_record(*, today: dt.date | None = None) -> PromiseDay:
    """Record today's backordered pairs, those past their window and the free pairs
    beside waiting backorders. Run again the same day, it replaces the day's figures."""
    today = today or timezone.localdate()
    day, _ = PromiseDay.objects.update_or_create(
        day=today,
        defaults={
            "pairs_backordered": OrderLine.objects.aggregate(pairs=Sum("backordered"))["pairs"]
            or 0,
            "pairs_past_window": pairs_past_window(today=today),
            "pairs_free_while_waiting": pairs_free_while_waiting(),
        },
    )
    return day
