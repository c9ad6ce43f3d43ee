"""Reads about credit: the credit memos for the store's people, what reduced an
invoice's balance (payments and credit memos, oldest first), and an account's credit
position (what it owes and has on order, and what is past due) for its credit limit."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    DateField,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from inventory.compiled import CompiledRead, slot, statement_run
from orders.models import Account, CreditMemo, Invoice, Order, OrderStatus
from orders.models.fulfilment import UNSETTLED_STATUSES


def credit_memos_for(*, accounts):
    """The credit memos on the invoices of ``accounts``, newest first."""
    return (
        CreditMemo.objects.filter(invoice__account__in=accounts)
        .select_related("invoice__order", "invoice__account")
        .order_by("-issued_on", "-pk")
    )


@dataclass(frozen=True)
class Reduction:
    on: object  # the date
    kind: str  # "payment" or "credit"
    label: str
    amount: Decimal
    credit_memo: CreditMemo | None = None


def invoice_reductions(*, invoice: Invoice) -> list[Reduction]:
    """Everything that lowered the invoice's balance, oldest first."""
    reductions = [
        Reduction(
            on=payment.received_on,
            kind="payment",
            label=f"Payment{f' ({payment.reference})' if payment.reference else ''}",
            amount=payment.amount,
        )
        for payment in invoice.payments.all()
    ]
    reductions += [
        Reduction(
            on=memo.issued_on,
            kind="credit",
            label=f"Credit memo {memo.number}: {memo.get_reason_display()}",
            amount=memo.amount,
            credit_memo=memo,
        )
        for memo in invoice.credit_memos.all()
    ]
    return sorted(reductions, key=lambda reduction: reduction.on)  # stable: payments first


@dataclass(frozen=True)
class CreditPosition:
    balance: Decimal  # open invoice balances plus orders not yet invoiced
    owed: Decimal  # the open invoice balances alone
    past_due: list  # rules.PastDue, oldest first


OPEN_ORDER_STATUSES = (OrderStatus.OPEN, OrderStatus.PARTIALLY_SHIPPED)
ZERO = Decimal("0.00")
PAST_DUE_LISTED = 5


def _account_sum(queryset, expression):
    """One account's sum as a scalar subquery (0 when it has no rows)."""
    summed = queryset.order_by().values("account").annotate(sum=Sum(expression)).values("sum")
    return Coalesce(Subquery(summed), Value(ZERO), output_field=DecimalField())


def _figures():
    invoices = Invoice.objects.filter(account=OuterRef("pk"))
    on_order = Q(status__in=OPEN_ORDER_STATUSES, no_charge=False)
    return Account.objects.filter(pk=slot("account_id", IntegerField())).values(
        owed=_account_sum(
            invoices.filter(status__in=UNSETTLED_STATUSES),
            F("total") - F("paid_amount") - F("credited_amount"),
        ),
        on_order=_account_sum(Order.objects.filter(on_order, account=OuterRef("pk")), F("total")),
        # Led by the account's open orders (order_account_status_totals), not by every
        # invoice it was ever sent: the read grows with what is open, not with history.
        invoiced_on_order=_account_sum(
            invoices.filter(
                order__account=OuterRef("pk"),
                order__status__in=OPEN_ORDER_STATUSES,
                order__no_charge=False,
            ),
            F("total"),
        ),
    )


def _late():
    return (
        Invoice.objects.unsettled()
        .filter(account=slot("account_id", IntegerField()), due_on__lt=slot("before", DateField()))
        .with_balance()
        .order_by("due_on", "pk")
        .values_list("number", "due_on", "balance", "pk")[:PAST_DUE_LISTED]
    )


# Compiled once per connection: every placement and edit reads the position (under the
# account's credit lock).
FIGURES, LATE = CompiledRead(_figures), CompiledRead(_late)


def credit_position(*, account, past_due_after_days: int, today) -> CreditPosition:
    """What the account owes and has on order, and its unpaid invoices more than
    ``past_due_after_days`` past due (the oldest few), in one statement: the figures'
    row joined to the late invoices (none: one row of figures). An order's uninvoiced
    part is its total less its invoices (invariant 10); replacements sent at no charge
    owe nothing."""
    from orders import rules

    figures_sql, figures_params = FIGURES.sql(account_id=account.pk)
    late_sql, late_params = LATE.sql(
        account_id=account.pk, before=today - dt.timedelta(days=past_due_after_days)
    )
    with connection.cursor() as cursor:
        statement_run(
            cursor,
            "SELECT figures.owed, figures.on_order, figures.invoiced_on_order, late.number, "
            f"late.due_on, late.balance, late.pk FROM ({figures_sql}) AS figures "
            f"LEFT JOIN ({late_sql}) AS late ON 1 = 1 ORDER BY late.due_on, late.pk",
            [*figures_params, *late_params],
        )
        rows = cursor.fetchall()
    owed, on_order, invoiced_on_order = (_decimal(value) for value in rows[0][:3])
    past_due = [
        rules.PastDue(number=number, days=(today - _date(due_on)).days, balance=_decimal(due))
        for _, _, _, number, due_on, due, _ in rows
        if number is not None
    ]
    return CreditPosition(
        balance=rules.money(owed + on_order - invoiced_on_order),
        owed=rules.money(owed),
        past_due=past_due,
    )


def _decimal(value) -> Decimal:
    """A raw cursor's number as Decimal (SQLite hands back floats and strings)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def credit_hold_reasons_for(*, account, terms, order_value: Decimal, today) -> list[dict]:
    """Why an order of ``order_value`` more (a new order's total, or what an edit adds)
    would go on credit hold now (orders.rules.credit_hold_reasons); empty if it would not.
    Placement and edits call it under locks.account_credit_lock."""
    from orders import rules

    threshold = rules.past_due_hold_days(account=account, terms=terms)
    position = credit_position(account=account, past_due_after_days=threshold, today=today)
    return rules.credit_hold_reasons(
        limit=rules.credit_limit(account=account, terms=terms),
        threshold_days=threshold,
        balance=position.balance,
        order_value=order_value,
        past_due=position.past_due,
        owed=position.owed,
    )
