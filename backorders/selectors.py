"""Read use cases for backorders: the retailer's open backorders with their runs,
expected dates (derived through the one ETA selector) and pending decisions."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Now

from backorders.models import DecisionRequest, DecisionStatus, OverdueRun
from backorders.services.common import alternative_skus, sku_description
from inventory.parsing import natural_number
from inventory.selectors import run_etas, ship_date_from_stock
from orders.models import Account, BackorderPeg, CommercialTerms, OrderLine
from orders.selectors import line_promises


@dataclass
class BackorderRow:
    line: OrderLine
    runs: list[tuple[str, dt.date]]  # (reference, ETA)
    expected_date: dt.date | None
    decision: DecisionRequest | None
    alternatives: list[dict]
    basis: str = ""  # why the expected date is what it is


def open_backorders_queryset(*, account: Account) -> QuerySet[OrderLine]:
    return (
        OrderLine.objects.filter(order__account=account, backordered__gt=0)
        .select_related("order", "order__terms", "sku__style")
        .prefetch_related(
            Prefetch(
                "pegs",
                queryset=BackorderPeg.objects.select_related("inbound_line__run").order_by("pk"),
            ),
            Prefetch(
                "decision_requests",
                queryset=DecisionRequest.objects.filter(status=DecisionStatus.PENDING),
                to_attr="pending_decisions",
            ),
        )
        .order_by("order__placed_at", "pk")
    )


def open_backorders(*, account: Account, limit: int = 500) -> list[BackorderRow]:
    """Every open backorder of the account (oldest order first) in a fixed number of
    queries; alternatives only for lines with a pending decision."""
    lines = list(open_backorders_queryset(account=account)[:limit])
    promises = line_promises(lines=lines)
    etas = run_etas(run_ids={peg.inbound_line.run_id for line in lines for peg in line.pegs.all()})
    deciding = [line for line in lines if line.pending_decisions]
    offers = alternative_skus(lines=deciding) if deciding else {}
    rows = []
    for line in lines:
        runs = [
            (peg.inbound_line.run.reference, etas[peg.inbound_line.run_id])
            for peg in line.pegs.all()
        ]
        ships_by = ship_date_from_stock(terms=line.order.terms)
        rows.append(
            BackorderRow(
                line=line,
                runs=runs,
                expected_date=promises[line.pk].date if line.pk in promises else None,
                basis=promises[line.pk].basis if line.pk in promises else "",
                decision=line.pending_decisions[0] if line.pending_decisions else None,
                alternatives=[
                    {"sku": sku.code, "description": sku_description(sku), "ships_by": ships_by}
                    for sku in offers.get(line.pk, [])
                ],
            )
        )
    return rows


@dataclass
class DecisionRow:
    request: DecisionRequest
    alternatives: list[dict]  # what the line may switch to now: {sku, description, ships_by}


def decisions_to_answer(
    *, account_id: int, eta_change_id: int | None = None, limit: int = 500
) -> list[DecisionRow]:
    """The account's decision requests still waiting for an answer (those of one ETA
    change when given), oldest order first, with the alternatives in stock now, in a
    fixed number of queries."""
    requests = DecisionRequest.objects.filter(
        status=DecisionStatus.PENDING, line__order__account_id=account_id
    )
    if eta_change_id is not None:
        requests = requests.filter(eta_change_id=eta_change_id)
    requests = list(
        requests.select_related(
            "line__order__account", "line__order__terms", "line__sku__style", "run"
        ).order_by("line__order__placed_at", "line_id")[:limit]
    )
    lines = [request.line for request in requests]
    offers = alternative_skus(lines=lines) if lines else {}
    return [
        DecisionRow(
            request=request,
            alternatives=[
                {
                    "sku": sku.code,
                    "description": sku_description(sku),
                    "ships_by": ship_date_from_stock(terms=request.line.order.terms),
                }
                for sku in offers.get(request.line_id, [])
            ],
        )
        for request in requests
    ]


def decision_request_for_link(*, request_id: int) -> DecisionRequest | None:
    return (
        DecisionRequest.objects.filter(pk=request_id)
        .select_related("line__order__account", "line__order__terms", "line__sku__style", "run")
        .first()
    )


def line_for_user(*, user, line_id) -> OrderLine | None:
    """A line of an account the user may see, else None (another account's line: 404)."""
    from orders.selectors import accounts_visible_to

    line_pk = natural_number(line_id)
    if line_pk is None:
        return None
    return (
        OrderLine.objects.filter(pk=line_pk, order__account__in=accounts_visible_to(user=user))
        .select_related("order__account", "order__terms", "sku__style")
        .first()
    )


def overdue_runs_admin_queryset() -> QuerySet[OverdueRun]:
    """Overdue runs for the planners' list: with the backordered pairs pegged to each
    run and the grace period of the terms in force, in one query."""
    current = CommercialTerms.objects.filter(effective_from__lte=Now()).order_by("-version")
    return (
        OverdueRun.objects.select_related("run", "eta_change__changed_by")
        .annotate(
            pairs_waiting=Subquery(
                BackorderPeg.objects.filter(inbound_line__run=OuterRef("run"))
                .values("inbound_line__run")
                .annotate(total=Sum("quantity"))
                .values("total")[:1]
            ),
            grace_days=Subquery(current.values("overdue_grace_business_days")[:1]),
        )
        .order_by("eta", "pk")
    )


def account_for_decisions(*, account_id: int) -> Account | None:
    return Account.objects.filter(pk=account_id, is_active=True).first()
