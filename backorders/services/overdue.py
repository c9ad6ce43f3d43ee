"""Overdue runs: a run whose ETA passed unreceived is never left silent. The morning job
records it for the planners ("Overdue runs" in the admin), who confirm a new ETA; one
still unconfirmed after the terms' grace period gets an ETA change from the system
(today plus the factory's usual delay) through eta_change, so the pegged lines move,
the retailers are told and asked as for any other slip."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from backorders.models import OverdueRun
from backorders.services.eta import eta_change
from inventory.calendar import add_business_days
from inventory.exceptions import InventoryInputError
from inventory.models import OPEN_INBOUND_STATUSES, InboundRun
from orders.rules import current_terms

logger = logging.getLogger(__name__)

OVERDUE_REASON = "overdue, not yet confirmed"


@dataclass
class OverdueCheckResult:
    detected: list[int] = field(default_factory=list)  # run ids newly found overdue
    changed: list[int] = field(default_factory=list)  # run ids given an ETA by the system
    waiting: int = 0  # overdue runs still inside their grace period


@transaction.atomic(durable=True)
def overdue_runs_detect(*, today: dt.date) -> list[int]:
    """Record every open run whose ETA is before today and not yet recorded for that
    ETA. Running it twice records nothing twice (one row per run and ETA)."""
    runs = list(
        InboundRun.objects.open()
        .filter(eta__lt=today)
        .exclude(Exists(OverdueRun.objects.filter(run=OuterRef("pk"), eta=OuterRef("eta"))))
        .values_list("pk", "eta")
    )
    OverdueRun.objects.bulk_create(
        [OverdueRun(run_id=run_id, eta=eta, detected_on=today) for run_id, eta in runs],
        ignore_conflicts=True,
    )
    return [run_id for run_id, _ in runs]


def overdue_grace_end(*, eta: dt.date, terms) -> dt.date:
    """The last day a planner has to confirm a new ETA for a run due on `eta`."""
    return add_business_days(eta, terms.overdue_grace_business_days)


def overdue_runs_check(*, today: dt.date | None = None) -> OverdueCheckResult:
    """The morning job: detect, then give every overdue run past its grace period an
    ETA change of today plus the factory's usual delay. Each change is its own
    transaction (eta_change); a run whose ETA a planner changed meanwhile is left
    alone, so running the job twice, or after a crash, changes nothing twice."""
    today = today or timezone.localdate()
    result = OverdueCheckResult(detected=overdue_runs_detect(today=today))
    terms = current_terms()
    new_eta = today + dt.timedelta(days=terms.factory_delay_days)
    pending = (
        OverdueRun.objects.filter(eta_change__isnull=True, run__status__in=OPEN_INBOUND_STATUSES)
        .select_related("run")
        .order_by("eta", "pk")
    )
    for overdue in pending:
        if overdue.run.eta != overdue.eta:
            continue  # moved meanwhile: eta_change resolves it, and a new ETA is watched anew
        if overdue_grace_end(eta=overdue.eta, terms=terms) >= today:
            result.waiting += 1
            continue
        try:
            changed = eta_change(
                run=overdue.run,
                new_eta=new_eta,
                reason=OVERDUE_REASON,
                user=None,
                today=today,
                only_if_eta=overdue.eta,
            )
        except InventoryInputError as error:
            # Received or cancelled meanwhile: nothing left to move.
            logger.info("Overdue run %s not moved: %s", overdue.run.reference, error)
            continue
        if changed is not None:
            result.changed.append(overdue.run_id)
    return result
