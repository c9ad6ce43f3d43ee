"""What the simulator watches every evening: the evening job's snapshot of backordered
pairs (alive past their window, free pairs beside them: the report's pair-days), and
every date given to a store that moved later (told before it passed, or not)."""

import datetime as dt
import re
import statistics
from collections import Counter

from django.db.models import Q

from backorders.services import promise_day_record
from orders.models import OrderLine


class Observer:
    def __init__(self, world):
        self.world = world
        self.given: dict[int, dt.date] = {}  # line id -> the date the store was last given
        self.silent: set[tuple[int, dt.date]] = set()  # (line, date) passed untold
        self.slips_told_early = 0
        self.slips_late = 0
        self.warnings: list[int] = []  # days of warning of each slip told early
        self.orders = 0
        self.refusals = Counter()

    def placed(self, order, today):
        self.orders += 1

    def refused(self, store, error):
        # Its first message with the figures taken out, so that alike refusals count
        # together: "A fill-in order needs at least N pairs; this one has N ...".
        messages = getattr(error, "messages", None) or [str(error)]
        self.refusals[re.sub(r"\d[\d,.]*\d|\d", "N", messages[0])] += 1

    def observe(self, today: dt.date):
        promise_day_record(today=today)  # the evening job: the report's pair-days
        self._dates_watch(today)

    def _dates_watch(self, today: dt.date):
        rows = OrderLine.objects.filter(
            Q(backordered__gt=0) | Q(pk__in=list(self.given))
        ).values_list("pk", "communicated_date", "promised_date", "backordered")
        for line_id, communicated, promised, backordered in rows:
            now_given = communicated or promised
            before = self.given.get(line_id)
            if before is not None and now_given is not None and now_given > before:
                if (line_id, before) in self.silent:
                    pass  # already counted when it passed untold
                elif today <= before:
                    self.slips_told_early += 1
                    self.warnings.append((before - today).days)
                else:
                    self.slips_late += 1
            if backordered == 0:
                self.given.pop(line_id, None)
                continue
            self.given[line_id] = now_given
            if (
                now_given is not None
                and now_given < today
                and (line_id, now_given) not in self.silent
            ):
                self.silent.add((line_id, now_given))
                self.slips_late += 1

    def figures(self) -> dict:
        slips = self.slips_told_early + self.slips_late
        return {
            "slips": slips,
            "slips_told_early": round(self.slips_told_early / slips, 4) if slips else 1.0,
            "median_warning_days": float(statistics.median(self.warnings))
            if self.warnings
            else None,
            "orders_placed": self.orders,
            "orders_refused": sum(self.refusals.values()),
            "orders_refused_by_reason": dict(sorted(self.refusals.items())),
        }
