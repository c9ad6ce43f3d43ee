"""Reads about credit memos for the store's people: their list, and what reduced an
invoice's balance (payments and credit memos, oldest first)."""

from dataclasses import dataclass
from decimal import Decimal

from orders.models import CreditMemo, Invoice


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
