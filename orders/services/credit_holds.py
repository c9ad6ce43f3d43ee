"""Credit holds: an order over the account's credit limit, or placed while an invoice is
too far past due, is accepted and allocated but held (orders.services.ordering puts it
there); the warehouse may not ship it (shipment_confirm refuses). Customer service
releases it within their authority, the same per-person limits as credits
(orders.services.authority); a payment that clears the account's position releases its
held orders by itself. Every release is in the audit trail, and the order's buyers are
told it will ship (orders.notices.credit_released_enqueue)."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from orders import locks, rules
from orders.audit import audit_record
from orders.credit_selectors import credit_hold_reasons_for
from orders.exceptions import OrderInputError
from orders.models import CreditStatus, Invoice, Order
from orders.notices import credit_released_enqueue
from orders.services.authority import person_limit, staff_role
from orders.services.service_desk import StaffNotAllowed

NOTE_MAX = 500


def order_uninvoiced_value(*, order: Order) -> Decimal:
    """What shipping the rest of the order puts on credit: its total less its invoices
    (invariant 10)."""
    invoiced = Invoice.objects.filter(order=order).aggregate(total=Sum("total"))["total"]
    return max(order.total - (invoiced or Decimal("0.00")), Decimal("0.00"))


@transaction.atomic(durable=True)
def order_credit_release(*, order: Order, user, note: str) -> Order:
    """Customer service releases a held order so the warehouse may ship it. An agent or
    a lead may release up to their own credit limit (the order's uninvoiced value); above
    it a superuser does. Not while the account itself is on (manual) credit hold."""
    role = staff_role(user=user)
    if role is None:
        raise StaffNotAllowed("You do not have permission to release credit holds.")
    note = (note or "").strip()
    if not note:
        raise OrderInputError({"note": ["Say why the order may ship."]})
    if len(note) > NOTE_MAX:
        raise OrderInputError({"note": [f"At most {NOTE_MAX} characters."]})
    order = locks.order_lock(order_id=order.pk)
    if not order.on_credit_hold:
        raise OrderInputError({"order": [f"Order {order.number} is not on credit hold."]})
    if order.account.credit_status == CreditStatus.HOLD:
        raise OrderInputError(
            {"account": ["The account itself is on credit hold: take it off hold first."]}
        )
    value = order_uninvoiced_value(order=order)
    limit = person_limit(user=user, terms=order.terms)
    if value > limit and not user.is_superuser:
        raise StaffNotAllowed(
            f"Releasing ${value:,.2f} is above your authority of ${limit:,.2f}: "
            "ask a lead or the credit manager."
        )
    order.credit_released_at, order.credit_released_by = timezone.now(), user
    order.save(update_fields=["credit_released_at", "credit_released_by"])
    audit_record(
        actor=user,
        action="order.credit_released",
        obj=order,
        changes={
            "credit_hold": ["held", "released"],
            "value": [None, str(value)],
            "your_limit": [None, str(limit)],
        },
        reason=note,
    )
    credit_released_enqueue(order=order)
    return order


def credit_holds_lock(*, account_id: int) -> list[Order]:
    """The account's held orders, locked (with its credit checks) before a payment locks
    its invoice: Order comes before invoices in the lock order."""
    locks.account_credit_lock(account_id=account_id)
    return locks.orders_on_credit_hold_lock(account_id=account_id)


@transaction.atomic(savepoint=False)
def credit_holds_review(*, held: list[Order], today) -> list[Order]:
    """Release the held orders (from credit_holds_lock) once their reasons are gone: what
    the account owes and has on order, these orders included, is within its limit and
    nothing is too far past due. Called after a payment, in its transaction."""
    if not held or held[0].account.credit_status == CreditStatus.HOLD:
        return []
    if credit_hold_reasons_for(
        account=held[0].account, terms=rules.current_terms(), order_value=Decimal(0), today=today
    ):
        return []
    now = timezone.now()
    Order.objects.filter(pk__in=[order.pk for order in held]).update(credit_released_at=now)
    for order in held:
        order.credit_released_at = now
        audit_record(
            actor=None,
            action="order.credit_released",
            obj=order,
            changes={"credit_hold": ["held", "released"]},
            reason="Paid: the account is within its credit limit and nothing is past due.",
        )
        credit_released_enqueue(order=order)
    return held
