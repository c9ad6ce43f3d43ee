"""The commercial terms applied to an account: one place computes every rule, so the
review page, the placement service and the policies page can never disagree."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from orders.models import Account, CommercialTerms, Order, OrderStatus

CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def current_terms() -> CommercialTerms:
    terms = CommercialTerms.objects.current()
    if terms is None:
        raise CommercialTerms.DoesNotExist("No commercial terms are in force.")
    return terms


def backorder_window_days(*, account: Account, terms: CommercialTerms) -> int:
    return window_days_chosen(
        account_days=account.backorder_window_days, terms_days=terms.backorder_window_days
    )


def window_days_chosen(*, account_days: int | None, terms_days: int) -> int:
    """The account's own backorder window when it has one, else the terms' default."""
    return terms_days if account_days is None else account_days


def backorder_window_end(
    *,
    account: Account,
    terms: CommercialTerms,
    cancel_date: dt.date | None = None,
    today: dt.date | None = None,
) -> dt.date:
    """The last day a backorder may ship: the account's window (or the default), or the
    order's cancel date, whichever ends first."""
    today = today or timezone.localdate()
    end = today + dt.timedelta(days=backorder_window_days(account=account, terms=terms))
    return min(end, cancel_date) if cancel_date else end


def free_freight_threshold(*, account: Account, terms: CommercialTerms) -> Decimal:
    if account.free_freight_threshold is not None:
        return account.free_freight_threshold
    return terms.free_freight_threshold


@dataclass(frozen=True)
class FreightQuote:
    freight: Decimal
    threshold: Decimal
    remaining_for_free: Decimal

    @property
    def is_free(self):
        return self.freight == 0


def freight_quote(*, account: Account, terms: CommercialTerms, subtotal: Decimal) -> FreightQuote:
    """Flat freight below the threshold, free at or above it; "$X more for free freight"."""
    threshold = free_freight_threshold(account=account, terms=terms)
    if subtotal <= 0:
        return FreightQuote(Decimal("0.00"), threshold, money(threshold))
    if subtotal >= threshold:
        return FreightQuote(Decimal("0.00"), threshold, Decimal("0.00"))
    return FreightQuote(money(terms.flat_freight), threshold, money(threshold - subtotal))


def placed_orders(*, account):
    """The orders that make an account's next one a fill-in (cancelled ones don't count);
    `account` may be an OuterRef."""
    return Order.objects.filter(account=account).exclude(status=OrderStatus.CANCELLED)


def is_opening_order(*, account: Account) -> bool:
    """An account's first real order."""
    return not placed_orders(account=account).exists()


def minimum_errors(
    *,
    account: Account,
    terms: CommercialTerms,
    pairs: int,
    subtotal: Decimal,
    opening: bool | None = None,
    pairs_cancelled: int = 0,
) -> list[str]:
    """Why an order is below its minimum: the opening-order value, or the fill-in pairs.
    Both count only the pairs the order will have; `pairs_cancelled` cannot be had."""
    opening = is_opening_order(account=account) if opening is None else opening
    besides = f" ({pairs_cancelled} more cannot be had)" if pairs_cancelled else ""
    if opening and subtotal < terms.opening_order_minimum:
        return [
            f"An opening order needs at least ${terms.opening_order_minimum:,.2f}; "
            f"this one is ${subtotal:,.2f}{besides}."
        ]
    if not opening and pairs < terms.fill_in_minimum_pairs:
        return [
            f"A fill-in order needs at least {terms.fill_in_minimum_pairs} pairs; "
            f"this one has {pairs}{besides}."
        ]
    return []


def payment_terms_days(*, account: Account, terms: CommercialTerms) -> int:
    if account.payment_terms_days is not None:
        return account.payment_terms_days
    return terms.payment_terms_days


def payment_terms_label(*, account: Account, terms: CommercialTerms) -> str:
    if account.dating_until:
        dating = account.dating_until
        return f"Dating to {dating:%b} {dating.day}, {dating.year}"
    return f"Net {payment_terms_days(account=account, terms=terms)}"


def invoice_due_date(*, account: Account, terms: CommercialTerms, issued_on: dt.date) -> dt.date:
    """Net N days from issue, or the dating date when it is later."""
    net = issued_on + dt.timedelta(days=payment_terms_days(account=account, terms=terms))
    if account.dating_until and account.dating_until > issued_on:
        return account.dating_until
    return net


def credit_limit(*, account: Account, terms: CommercialTerms) -> Decimal:
    if account.credit_limit is not None:
        return account.credit_limit
    return terms.credit_limit


def past_due_hold_days(*, account: Account, terms: CommercialTerms) -> int:
    if account.past_due_hold_days is not None:
        return account.past_due_hold_days
    return terms.past_due_hold_days


@dataclass(frozen=True)
class PastDue:
    number: str
    days: int  # past its due date
    balance: Decimal


def credit_hold_reasons(
    *,
    limit: Decimal,
    threshold_days: int,
    balance: Decimal,
    order_value: Decimal,
    past_due: list[PastDue],
    owed: Decimal = Decimal(0),
) -> list[dict]:
    """Why an order of ``order_value`` goes on credit hold, given what the account owes
    and has on order (``balance``, of which ``owed`` is open invoices) and its unpaid
    invoices past their due date; each reason says what would release the order (a
    payment only where paying invoices can bring the balance within the limit). Empty:
    it ships like any other."""
    reasons = []
    if balance + order_value > limit:
        over = money(balance + order_value - limit)
        release = (
            f"Paying ${over:,.2f} of open invoices releases it, or customer service can release it."
            if owed >= over
            else "Customer service can release it."
        )
        reasons.append(
            {
                "code": "over_limit",
                "reason": f"This order (${order_value:,.2f}) takes the open balance to "
                f"${balance + order_value:,.2f}, over the credit limit of ${limit:,.2f}.",
                "release": release,
            }
        )
    late = [invoice for invoice in past_due if invoice.days > threshold_days]
    if late:
        names = ", ".join(f"{invoice.number} ({invoice.days} days)" for invoice in late)
        owed = money(sum((invoice.balance for invoice in late), Decimal(0)))
        reasons.append(
            {
                "code": "past_due",
                "reason": f"Invoices more than {threshold_days} days past due: {names}.",
                "release": f"Paying the ${owed:,.2f} past due releases it, or customer "
                "service can release it.",
            }
        )
    return reasons
