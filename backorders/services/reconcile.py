"""Nightly reconciliation: the counters are recomputed from the demand rows they
summarise (StockLevel.allocated from Allocation rows, InboundLine.promised from pegs),
drift is reported and repaired; line splits that disagree with their allocations or
pegs, and pegged lines promised past their window, are reported for a person to look at."""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from backorders.models import DecisionStatus
from inventory.models import InboundLine, StockLevel
from orders import ledger
from orders.models import Allocation, BackorderPeg, OrderLine
from orders.selectors import line_expected_dates

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drift:
    kind: str  # "stock_allocated", "inbound_promised", "line_allocated", ...
    pk: int
    recorded: int
    expected: int
    repaired: bool = False


@dataclass
class ReconcileReport:
    drifts: list[Drift] = field(default_factory=list)
    beyond_window: list[int] = field(default_factory=list)  # line ids

    @property
    def clean(self) -> bool:
        return not self.drifts and not self.beyond_window


def _sum_of(model, fk):
    return Coalesce(
        Subquery(
            model.objects.filter(**{fk: OuterRef("pk")})
            .values(fk)
            .annotate(total=Sum("quantity"))
            .values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _stock_drift():
    return list(
        StockLevel.objects.annotate(expected=_sum_of(Allocation, "stock_level"))
        .exclude(allocated=F("expected"))
        .values_list("pk", "allocated", "expected")
    )


def _inbound_drift():
    return list(
        InboundLine.objects.annotate(expected=_sum_of(BackorderPeg, "inbound_line"))
        .exclude(promised=F("expected"))
        .values_list("pk", "promised", "expected")
    )


@transaction.atomic(durable=True)
def reconcile(*, repair: bool = True) -> ReconcileReport:
    """Find (and with repair=True fix) counter drift. Each drifted row is locked and
    recomputed under the lock before it is written, so a concurrent order is never
    overwritten. A stock level whose allocations exceed its on-hand count is reported,
    not repaired (that is a shortage: stock_sync resolves it)."""
    report = ReconcileReport()
    stock = _stock_drift()
    if stock:
        locked = {
            level.pk: level
            for level in StockLevel.objects.select_for_update(of=("self",))
            .filter(pk__in=[pk for pk, *_ in stock])
            .annotate(expected=_sum_of(Allocation, "stock_level"))
            .order_by("pk")
        }
        for level in locked.values():
            if level.allocated == level.expected:
                continue
            fixable = repair and level.expected <= level.on_hand
            if fixable:
                ledger.counters_derive(stock_level_ids=[level.pk], inbound_line_ids=[])
            report.drifts.append(
                Drift("stock_allocated", level.pk, level.allocated, level.expected, fixable)
            )
    inbound = _inbound_drift()
    if inbound:
        locked = (
            InboundLine.objects.select_for_update(of=("self",))
            .filter(pk__in=[pk for pk, *_ in inbound])
            .annotate(expected=_sum_of(BackorderPeg, "inbound_line"))
            .order_by("pk")
        )
        for line in locked:
            if line.promised == line.expected:
                continue
            fixable = repair and line.expected <= line.quantity - line.received
            if fixable:
                ledger.counters_derive(stock_level_ids=[], inbound_line_ids=[line.pk])
            report.drifts.append(
                Drift("inbound_promised", line.pk, line.promised, line.expected, fixable)
            )
    for kind, field_name, model, fk in (
        ("line_allocated", "allocated", Allocation, "line"),
        ("line_backordered", "backordered", BackorderPeg, "line"),
    ):
        rows = (
            OrderLine.objects.filter(Q(allocated__gt=0) | Q(backordered__gt=0))
            .annotate(expected=_sum_of(model, fk))
            .exclude(**{field_name: F("expected")})
            .values_list("pk", field_name, "expected")
        )
        report.drifts.extend(Drift(kind, pk, recorded, expected) for pk, recorded, expected in rows)
    report.beyond_window = _beyond_window()
    for drift in report.drifts:
        logger.warning("Reconcile: %s", drift)
    if report.beyond_window:
        logger.warning("Reconcile: lines promised past their window: %s", report.beyond_window)
    return report


def _beyond_window(batch: int = 5000) -> list[int]:
    """Invariant 4: pegged lines whose derived date is past their window with no
    question pending to the retailer."""
    found = []
    queryset = (
        OrderLine.objects.filter(backordered__gt=0, window_end__isnull=False)
        .exclude(decision_requests__status=DecisionStatus.PENDING)
        .select_related("order__terms")
        .order_by("pk")
    )
    last = 0
    while True:
        lines = list(queryset.filter(pk__gt=last)[:batch])
        if not lines:
            return found
        expected = line_expected_dates(lines=lines)
        found.extend(
            line.pk for line in lines if line.pk in expected and expected[line.pk] > line.window_end
        )
        last = lines[-1].pk
