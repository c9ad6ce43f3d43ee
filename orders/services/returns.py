"""A prepaid return's lifecycle after customer service authorizes it
(service_desk.return_create): label issued (a worker rendered its PDF) -> received at the
warehouse (the warehouse's API, or the admin) -> credited (for the pairs received, within
the crediting person's authority) -> closed. Each step tells the store and the rep."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from inventory.parsing import sku_code_normalize
from orders import locks, rules
from orders.audit import audit_record
from orders.exceptions import OrderInputError
from orders.models import (
    CreditApprovalStatus,
    CreditReason,
    InvoiceLine,
    ReturnAuthorization,
    ReturnLine,
)
from orders.services.resolution_notices import absolute, resolution_tell
from orders.services.service_desk import StaffNotAllowed, credit_request_record

Status = ReturnAuthorization.Status
RECEIVABLE = (Status.AUTHORIZED, Status.LABEL_ISSUED)


def return_label_issued(*, authorization_id: int) -> bool:
    """The label's PDF is stored: an authorized return moves to "label issued". Called by
    the worker that rendered it; a second call changes nothing."""
    return bool(
        ReturnAuthorization.objects.filter(pk=authorization_id, status=Status.AUTHORIZED).update(
            status=Status.LABEL_ISSUED, label_issued_at=timezone.now()
        )
    )


def _require(user, perm, what):
    if not (user.is_authenticated and user.is_active and user.has_perm(perm)):
        raise StaffNotAllowed(f"You do not have permission to {what}.")


def _lines_lock(authorization):
    return list(
        ReturnLine.objects.select_for_update(of=("self",))
        .filter(authorization=authorization)
        .select_related("order_line__sku")
        .order_by("pk")
    )


def _received_counts(lines, requested) -> dict:
    """{return line: pairs received} from [{"sku", "quantity"}] (None: all of it)."""
    if requested is None:
        return {line: line.quantity for line in lines}
    by_code = {line.order_line.sku.code.upper(): line for line in lines}
    errors, counts = {}, {}
    if not isinstance(requested, list | tuple) or not requested:
        raise OrderInputError({"lines": ["Add at least one line, or none to receive it all."]})
    for index, row in enumerate(requested):
        raw_sku = row.get("sku") if isinstance(row, dict) else None
        code = sku_code_normalize(raw_sku) if raw_sku else ""
        line = by_code.get(code)
        quantity = row.get("quantity") if isinstance(row, dict) else None
        if line is None:
            errors[f"lines[{index}].sku"] = [f"{code or 'That SKU'} is not on this return."]
        elif line in counts:
            errors[f"lines[{index}].sku"] = [f"{code} is listed twice."]
        elif isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            errors[f"lines[{index}].quantity"] = ["Enter a whole number of pairs, 0 or more."]
        elif quantity > line.quantity:
            errors[f"lines[{index}].quantity"] = [
                f"Only {line.quantity} pairs of {code} were authorized."
            ]
        else:
            counts[line] = quantity
    if errors:
        raise OrderInputError(errors)
    return counts


@transaction.atomic(durable=True)
def return_receive(*, authorization: ReturnAuthorization, user, lines=None) -> ReturnAuthorization:
    """The warehouse received the return: pairs per SKU ([{"sku", "quantity"}]; none: all
    that was authorized). Received once: a repeat returns the return as it stands."""
    _require(user, "orders.change_returnauthorization", "receive returns")
    authorization = locks.return_authorization_lock(authorization_id=authorization.pk)
    if authorization.status not in RECEIVABLE:
        if authorization.received_at is not None:
            return authorization
        raise OrderInputError(
            {"status": [f"Return {authorization} is {authorization.get_status_display().lower()}."]}
        )
    return_lines = _lines_lock(authorization)
    counts = _received_counts(return_lines, lines)
    if not any(counts.values()):
        raise OrderInputError({"lines": ["Receive at least one pair."]})
    for line, quantity in counts.items():
        line.pairs_received = quantity
        line.save(update_fields=["pairs_received"])
    authorization.status = Status.RECEIVED
    authorization.received_at = timezone.now()
    authorization.received_by = user if user.is_authenticated else None
    authorization.save(update_fields=["status", "received_at", "received_by"])
    items = {line.order_line.sku.code: quantity for line, quantity in counts.items() if quantity}
    audit_record(
        actor=user,
        action="return.received",
        obj=authorization,
        changes={"status": [None, Status.RECEIVED], "items": [None, items]},
        case=authorization.case,
    )
    if authorization.case is not None:
        pairs = sum(items.values())
        resolution_tell(
            case=authorization.case,
            key=f"return-received:{authorization.pk}",
            headline=f"We received your return {authorization.number}",
            body=f"The warehouse received {pairs} pair{'s' if pairs != 1 else ''} "
            f"({', '.join(f'{n} × {code}' for code, n in items.items())}). "
            "A credit memo follows once they are checked.",
            user=user,
            entry_links={"return_authorization": authorization},
        )
    return authorization


def _return_credits(authorization, return_lines) -> dict:
    """{(invoice, invoice line): amount} for the pairs received, at the invoiced price,
    less the published restocking fee on returned (unwanted) goods."""
    invoice_lines = {}
    for line in (
        InvoiceLine.objects.filter(order_line_id__in=[r.order_line_id for r in return_lines])
        .select_related("invoice")
        .order_by("pk")
    ):
        invoice_lines.setdefault(line.order_line_id, line)
    fee = Decimal("0")
    if authorization.reason == CreditReason.RETURN:
        fee = authorization.order.terms.restocking_fee_percent
    credits = {}
    for line in return_lines:
        invoiced = invoice_lines.get(line.order_line_id)
        if invoiced is None or not line.pairs_received:
            continue
        amount = rules.money(invoiced.unit_price * line.pairs_received * (100 - fee) / 100)
        if amount > 0:
            credits[invoiced] = amount
    return credits


@transaction.atomic(durable=True)
def return_credit(*, authorization: ReturnAuthorization, user) -> list:
    """Credit the pairs received, on the invoices that charged them, within the user's
    authority (above it the requests wait for a second person, whose approval moves the
    return on). Returns the credit requests."""
    _require(user, "orders.add_creditmemo", "issue credits")
    locks.authority_lock(account_id=authorization.account_id, user_id=user.pk)
    authorization = locks.return_authorization_lock(authorization_id=authorization.pk)
    if authorization.status != Status.RECEIVED:
        raise OrderInputError(
            {
                "status": [
                    f"Only a received return is credited; {authorization} is "
                    f"{authorization.get_status_display().lower()}."
                ]
            }
        )
    if authorization.case is None:
        raise OrderInputError({"case": [f"Return {authorization} has no case to credit it on."]})
    if authorization.credit_requests.exclude(status=CreditApprovalStatus.REJECTED).exists():
        raise OrderInputError({"status": [f"Return {authorization} has been credited already."]})
    credits = _return_credits(authorization, _lines_lock(authorization))
    if not credits:
        raise OrderInputError({"lines": ["Nothing received on this return was invoiced."]})
    requests = [
        credit_request_record(
            case=authorization.case,
            invoice=invoice_line.invoice,
            invoice_line=invoice_line,
            amount=amount,
            reason=authorization.reason,
            note=f"Return {authorization.number}",
            user=user,
            return_authorization=authorization,
        )
        for invoice_line, amount in credits.items()
    ]
    return_credited_if_done(authorization=authorization, user=user)
    return requests


@transaction.atomic(savepoint=False)
def return_credited_if_done(*, authorization: ReturnAuthorization, user) -> bool:
    """A received return whose credits are all issued becomes "credited", and the store
    and the rep are told with the memos linked."""
    requests = list(authorization.credit_requests.select_related("credit_memo"))
    if (
        authorization.status != Status.RECEIVED
        or not requests
        or any(r.status == CreditApprovalStatus.PENDING for r in requests)
    ):
        return False
    memos = [r.credit_memo for r in requests if r.credit_memo is not None]
    authorization.status = Status.CREDITED
    authorization.credited_at = timezone.now()
    authorization.save(update_fields=["status", "credited_at"])
    audit_record(
        actor=user,
        action="return.credited",
        obj=authorization,
        changes={
            "status": [Status.RECEIVED, Status.CREDITED],
            "credit_memo": [None, ", ".join(memo.number for memo in memos)],
        },
        case=authorization.case,
    )
    if memos:
        total = sum((memo.amount for memo in memos), Decimal("0"))
        resolution_tell(
            case=authorization.case,
            key=f"return-credited:{authorization.pk}",
            headline=f"Return {authorization.number} credited: ${total:,.2f}",
            body=f"Credit memo {', '.join(m.number for m in memos)} lowers your invoice's "
            "open balance.",
            user=user,
            document_label=f"Credit memo {memos[0].number}",
            document_url=absolute(reverse("portal:credit_memo_pdf", args=[memos[0].number])),
            entry_links={"credit_memo": memos[0], "return_authorization": authorization},
        )
    return True


@transaction.atomic(durable=True)
def return_close(
    *, authorization: ReturnAuthorization, user, note: str = ""
) -> ReturnAuthorization:
    """Close a credited return (or a received one nothing is owed on, with a note)."""
    _require(user, "orders.change_returnauthorization", "close returns")
    authorization = locks.return_authorization_lock(authorization_id=authorization.pk)
    if authorization.status == Status.CLOSED:
        return authorization
    note = (note or "").strip()[:500]
    if authorization.status == Status.RECEIVED and not note:
        raise OrderInputError({"note": ["Say why a received return closes without a credit."]})
    if authorization.status not in (Status.CREDITED, Status.RECEIVED):
        raise OrderInputError(
            {
                "status": [
                    f"Return {authorization} is {authorization.get_status_display().lower()}"
                    "; it closes once received."
                ]
            }
        )
    before = authorization.status
    authorization.status = Status.CLOSED
    authorization.closed_at = timezone.now()
    authorization.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=user,
        action="return.closed",
        obj=authorization,
        changes={"status": [before, Status.CLOSED]},
        reason=note,
        case=authorization.case,
    )
    return authorization


def return_detail(*, authorization_id: int) -> ReturnAuthorization | None:
    """A return with its lines, for the API's answer."""
    return (
        ReturnAuthorization.objects.select_related("account", "order")
        .prefetch_related(Prefetch("lines", ReturnLine.objects.select_related("order_line__sku")))
        .filter(pk=authorization_id)
        .first()
    )


__all__ = [
    "return_close",
    "return_credit",
    "return_credited_if_done",
    "return_detail",
    "return_label_issued",
    "return_receive",
]
