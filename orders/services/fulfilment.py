"""Fulfilment: shipment confirmation (allocated -> shipped), the invoice issued with it,
credit memos, payments, return authorizations, and the statement of account.

Every write is one transaction; PDFs are rendered after commit by
``orders.tasks.document_render_task``, never inside the transaction or on a request."""

import datetime as dt
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone

from inventory.parsing import sku_code_normalize
from notifications.kinds import MessageKind
from notifications.services import OutgoingMessage, kinds_messages_enqueue, message_enqueue
from orders import ledger, locks, rules
from orders.exceptions import OrderInputError, OrderOnCreditHold
from orders.models import (
    Account,
    CreditMemo,
    CreditReason,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    ReturnAuthorization,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from orders.notices import account_recipients
from orders.services.credit_holds import credit_holds_lock, credit_holds_review
from orders.services.ordering import order_status_for
from orders.webhooks.events import WebhookEvent
from orders.webhooks.payloads import credit_memo_data, invoice_data, shipment_data
from orders.webhooks.services import Event, webhook_event_enqueue, webhook_events_enqueue

ZERO = Decimal("0.00")
MAX_SHIPMENT_LINES = 500
MAX_TRACKING_NUMBERS = 20
TRACKING_FIELD_LENGTH = Shipment._meta.get_field("tracking").max_length
NOTE_MAX_LENGTH = CreditMemo._meta.get_field("note").max_length

# Public tracking pages of the common carriers; {number} is URL-encoded.
CARRIER_TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "FEDEX": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "DHL": "https://www.dhl.com/us-en/home/tracking/tracking-express.html?tracking-id={number}",
}
CARRIER_NAMES = {"UPS": "UPS", "FEDEX": "FedEx", "USPS": "USPS", "DHL": "DHL"}
_TRACKING_SPLIT = re.compile(r"[\s,;]+")
_TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{4,40}$")


def carrier_normalize(carrier) -> str:
    """ "fedex", "FedEx ", "Fed Ex" -> "FedEx"; an unknown carrier is kept as typed."""
    text = " ".join(str(carrier or "").split())
    return CARRIER_NAMES.get(text.replace(" ", "").upper(), text)


def tracking_numbers(tracking: str) -> list[str]:
    return [number for number in _TRACKING_SPLIT.split(tracking or "") if number]


def tracking_url(*, carrier: str, number: str) -> str:
    """The carrier's tracking page for one number, or "" for a carrier we have no page for."""
    template = CARRIER_TRACKING_URLS.get(carrier.replace(" ", "").upper())
    return template.format(number=quote(number, safe="")) if template else ""


def shipment_packages(shipment: Shipment) -> list[dict]:
    """[{"tracking", "tracking_url"}] for each tracking number of a shipment."""
    return [
        {"tracking": number, "tracking_url": tracking_url(carrier=shipment.carrier, number=number)}
        for number in tracking_numbers(shipment.tracking)
    ]


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _sku_description(sku) -> str:
    return f"{sku.style.name}, {sku.color}, {sku.size_label} {sku.get_width_display()}"


# --- Shipment confirmation ---------------------------------------------------------


@dataclass(frozen=True)
class ShipmentResult:
    shipment: Shipment
    invoice: Invoice
    created: bool


@dataclass(frozen=True)
class _ValidShipment:
    carrier: str
    tracking: str
    quantities: dict = field(default_factory=dict)  # sku code -> quantity, in request order


def _line_parts(line):
    if isinstance(line, dict):
        return line.get("sku"), line.get("quantity")
    try:
        sku, quantity = line
    except (TypeError, ValueError):
        return None, None
    return getattr(sku, "code", sku), quantity


def _positive_int(raw, errors, key, *, noun="pairs"):
    if isinstance(raw, bool) or raw is None or (isinstance(raw, float) and not raw.is_integer()):
        errors[key] = [f"Enter a whole number of {noun}."]
        return None
    try:
        value = int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
    except (TypeError, ValueError):
        errors[key] = [f"Enter a whole number of {noun}."]
        return None
    if value <= 0:
        errors[key] = ["Quantity must be at least 1."]
        return None
    return value


def _shipment_input_validate(*, carrier, tracking, lines) -> _ValidShipment:
    errors = {}
    carrier = carrier_normalize(carrier)
    if not carrier:
        errors["carrier"] = ["Enter the carrier."]
    elif len(carrier) > Shipment._meta.get_field("carrier").max_length:
        errors["carrier"] = ["At most 20 characters."]
    numbers = tracking_numbers(tracking if isinstance(tracking, str) else "")
    if not numbers:
        errors["tracking"] = ["Enter at least one tracking number."]
    elif len(numbers) > MAX_TRACKING_NUMBERS:
        errors["tracking"] = [f"At most {MAX_TRACKING_NUMBERS} tracking numbers."]
    elif bad := [n for n in numbers if not _TRACKING_NUMBER.match(n)]:
        errors["tracking"] = [
            f"{bad[0][:40]!r} is not a tracking number (4-40 letters, digits or dashes)."
        ]
    joined = " ".join(numbers)
    if numbers and "tracking" not in errors and len(joined) > TRACKING_FIELD_LENGTH:
        errors["tracking"] = [f"At most {TRACKING_FIELD_LENGTH} characters in all."]

    quantities, first_index = {}, {}
    if not isinstance(lines, list | tuple) or not lines:
        errors["lines"] = ["Add at least one line."]
        lines = []
    elif len(lines) > MAX_SHIPMENT_LINES:
        errors["lines"] = [f"At most {MAX_SHIPMENT_LINES} lines per shipment."]
        lines = []
    for index, line in enumerate(lines):
        raw_sku, raw_quantity = _line_parts(line)
        code = sku_code_normalize(raw_sku) if raw_sku is not None else ""
        if not code:
            errors[f"lines[{index}].sku"] = ["Enter a SKU."]
        elif code in first_index:
            errors[f"lines[{index}].sku"] = [
                f"SKU {code} is already on line {first_index[code]}; combine the quantities."
            ]
        quantity = _positive_int(raw_quantity, errors, f"lines[{index}].quantity")
        if code and code not in first_index:
            first_index[code] = index
            quantities[code] = quantity
    if errors:
        raise OrderInputError(errors)
    return _ValidShipment(carrier=carrier, tracking=joined, quantities=quantities)


def _shipment_lines_check(*, valid: _ValidShipment, order_lines) -> list[tuple[OrderLine, int]]:
    """Match the request to the order's lines and refuse anything beyond what is allocated."""
    by_code = {line.sku.code.upper(): line for line in order_lines}
    errors, wanted = {}, []
    for index, (code, quantity) in enumerate(valid.quantities.items()):
        line = by_code.get(code)
        if line is None:
            errors[f"lines[{index}].sku"] = [f"SKU {code} is not on this order."]
        elif quantity > line.allocated:
            errors[f"lines[{index}].quantity"] = [
                f"Only {line.allocated} pairs of {code} are allocated; cannot ship {quantity}."
            ]
        else:
            wanted.append((line, quantity))
    if errors:
        raise OrderInputError(errors)
    return wanted


def shipment_validate(*, order: Order, carrier, tracking, lines) -> None:
    """Check a shipment confirmation without writing (the CSV import's --dry-run).
    Raises OrderInputError naming each bad field or line."""
    valid = _shipment_input_validate(carrier=carrier, tracking=tracking, lines=lines)
    if order.on_credit_hold:
        raise OrderOnCreditHold(order)
    _shipment_lines_check(valid=valid, order_lines=order.lines.select_related("sku"))


@transaction.atomic(durable=True)
def shipment_confirm(
    *, order: Order, carrier, tracking, lines, user, shipped_at: dt.datetime | None = None
) -> ShipmentResult:
    """The warehouse shipped these pairs: allocated becomes shipped, stock leaves the
    building (on_hand and allocated both go down), the invoice is issued in the same
    transaction, and the retailer is told. The same order and tracking again returns the
    first shipment (a resent confirmation ships nothing twice)."""
    valid = _shipment_input_validate(carrier=carrier, tracking=tracking, lines=lines)
    order = locks.order_lock(order_id=order.pk, related=("account", "terms", "placed_by"))
    if order is None:
        raise OrderInputError({"order": ["No such order."]})
    existing = Shipment.objects.filter(order=order, tracking=valid.tracking).first()
    if existing is not None:
        return _resent_confirmation(existing=existing, valid=valid)
    if order.status == OrderStatus.CANCELLED:
        raise OrderInputError({"order": [f"Order {order.number} is cancelled."]})
    if order.on_credit_hold:
        raise OrderOnCreditHold(order)
    order_lines = locks.order_lines_lock(order_id=order.pk)
    wanted = _shipment_lines_check(valid=valid, order_lines=order_lines)

    ledger.ship(lines=order_lines, wanted=wanted)
    # Both numbers at once, after every other lock (the counters' rows queue issuers).
    numbers = locks.document_numbers_take(names=("shipment", "invoice"))
    shipment = Shipment.objects.create(
        number=f"SHP-{numbers['shipment']:06d}",
        order=order,
        carrier=valid.carrier,
        tracking=valid.tracking,
        shipped_at=shipped_at or timezone.now(),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    shipment_lines = [
        ShipmentLine(shipment=shipment, order_line=line, quantity=quantity)
        for line, quantity in wanted
    ]
    ShipmentLine.objects.bulk_create(shipment_lines)

    order.status = order_status_for(order_lines)
    order.save(update_fields=["status"])
    invoice = _invoice_issue(
        order=order, shipment=shipment, shipped=wanted, number=f"INV-{numbers['invoice']:06d}"
    )

    # The shipment and its invoice are new in this transaction: no message has their keys.
    people = account_recipients(account=order.account)
    kinds_messages_enqueue(
        messages=[
            _shipment_notice(
                shipment=shipment, shipped=wanted, order_lines=order_lines, people=people
            ),
            _invoice_notice(invoice=invoice, people=people),
        ],
        new_event=True,
    )
    webhook_events_enqueue(
        events=[
            Event(
                WebhookEvent.SHIPMENT_CREATED,
                f"shipment.created:{shipment.pk}",
                order.account,
                shipment_data(shipment=shipment, shipped=wanted),
            ),
            Event(
                WebhookEvent.INVOICE_ISSUED,
                f"invoice.issued:{invoice.pk}",
                order.account,
                invoice_data(invoice=invoice),
            ),
        ]
    )
    from orders.tasks import document_render_task

    transaction.on_commit(
        functools.partial(document_render_task.delay, "packing_list", shipment.pk), robust=True
    )
    transaction.on_commit(
        functools.partial(document_render_task.delay, "invoice", invoice.pk), robust=True
    )
    return ShipmentResult(shipment=shipment, invoice=invoice, created=True)


def _resent_confirmation(*, existing, valid) -> ShipmentResult:
    shipped = {
        code.upper(): qty
        for code, qty in existing.lines.values_list("order_line__sku__code", "quantity")
    }
    if shipped != valid.quantities:
        raise OrderInputError(
            {
                "tracking": [
                    f"Tracking {valid.tracking} was already confirmed as {existing.number} "
                    "with other lines."
                ]
            }
        )
    return ShipmentResult(shipment=existing, invoice=existing.invoice, created=False)


def _shipment_notice(*, shipment, shipped, order_lines, people):
    """The shipment's message to the account's people (`people`) and whoever placed it."""
    order = shipment.order
    context = {
        "account_name": order.account.name,
        "order_number": order.number,
        "po_number": order.po_number,
        "shipped_on": timezone.localdate(shipment.shipped_at).isoformat(),
        "carrier": shipment.carrier,
        "packages": shipment_packages(shipment),
        "lines": [
            {"sku": line.sku.code, "description": _sku_description(line.sku), "quantity": qty}
            for line, qty in shipped
        ],
        "remaining_backordered": sum(line.backordered for line in order_lines),
        "order_url": _absolute(reverse("portal:shipment_list")),
    }
    recipients = account_recipients(account=order.account, extra=[order.placed_by], members=people)
    return MessageKind.SHIPMENT, OutgoingMessage(f"shipment:{shipment.pk}", recipients, context)


# --- Invoices ------------------------------------------------------------------------


def _next_number(*, sequence: str, prefix: str) -> str:
    return f"{prefix}-{locks.document_numbers_take(names=[sequence])[sequence]:06d}"


@transaction.atomic(savepoint=False)
def _invoice_issue(*, order: Order, shipment: Shipment, shipped, number: str) -> Invoice:
    """One invoice per shipment, at the order's prices; the order's freight goes on its
    first invoice only. Runs inside shipment_confirm, with the order locked."""
    account = order.account
    issued_on = timezone.localdate(shipment.shipped_at)
    lines = [
        InvoiceLine(
            order_line=line,
            description=f"{line.sku.code} {_sku_description(line.sku)}",
            quantity=quantity,
            unit_price=line.unit_price,
            amount=rules.money(line.unit_price * quantity),
        )
        for line, quantity in shipped
    ]
    subtotal = rules.money(sum((line.amount for line in lines), ZERO))
    first = not Invoice.objects.filter(order=order).exists()
    freight = rules.money(order.freight) if first and not order.no_charge else ZERO
    total = subtotal + freight
    invoice = Invoice.objects.create(
        number=number,
        account=account,
        order=order,
        shipment=shipment,
        issued_on=issued_on,
        due_on=rules.invoice_due_date(account=account, terms=order.terms, issued_on=issued_on),
        terms_label=rules.payment_terms_label(account=account, terms=order.terms),
        subtotal=subtotal,
        freight=freight,
        total=total,
        status=InvoiceStatus.OPEN if total > 0 else InvoiceStatus.PAID,
    )
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    return invoice


def _invoice_notice(*, invoice: Invoice, people):
    """The invoice's message to the account's people (`people`)."""
    order = invoice.order
    context = {
        "account_name": invoice.account.name,
        "invoice_number": invoice.number,
        "order_number": order.number,
        "po_number": order.po_number,
        "issued_on": invoice.issued_on.isoformat(),
        "due_date": invoice.due_on.isoformat(),
        "terms": invoice.terms_label,
        "subtotal": str(invoice.subtotal),
        "freight": str(invoice.freight),
        "total": str(invoice.total),
        "invoice_url": _absolute(reverse("portal:invoice_list")),
        "pdf_url": _absolute(reverse("portal:invoice_pdf", args=[invoice.number])),
    }
    return MessageKind.INVOICE, OutgoingMessage(f"invoice:{invoice.pk}", people, context)


def _settled_status(invoice: Invoice) -> str:
    if invoice.total - invoice.paid_amount - invoice.credited_amount > 0:
        return InvoiceStatus.OPEN
    return InvoiceStatus.PAID if invoice.paid_amount > 0 else InvoiceStatus.CREDITED


def _amount_validate(raw, *, errors, key="amount") -> Decimal | None:
    try:
        amount = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, TypeError, ValueError):
        errors[key] = ["Enter an amount such as 125.50."]
        return None
    if not amount.is_finite():
        errors[key] = ["Enter an amount such as 125.50."]
        return None
    if amount != amount.quantize(rules.CENT):
        errors[key] = ["Use at most two decimal places (cents)."]
        return None
    if amount <= 0:
        errors[key] = ["The amount must be more than zero."]
        return None
    return amount.quantize(rules.CENT)


# Not durable: the service desk wraps it in its own transaction (authority, audit).
@transaction.atomic(savepoint=False)
def credit_memo_issue(
    *,
    invoice: Invoice,
    amount,
    reason: str,
    invoice_line: InvoiceLine | None = None,
    note: str = "",
    user,
    approved_by=None,
) -> CreditMemo:
    """Credit an invoice, never beyond its open balance (nor beyond a line's amount less
    what was already credited on it). Gapless CM numbers. No role checks here: callers
    that enforce authority limits wrap this function."""
    errors = {}
    amount = _amount_validate(amount, errors=errors)
    if reason not in CreditReason.values:
        errors["reason"] = [f"Choose one of: {', '.join(CreditReason.values)}."]
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [f"At most {NOTE_MAX_LENGTH} characters."]
    if invoice_line is not None and invoice_line.invoice_id != invoice.pk:
        errors["invoice_line"] = ["Not a line of this invoice."]
    if errors:
        raise OrderInputError(errors)

    locked = locks.invoice_lock(invoice_id=invoice.pk)
    balance = locked.total - locked.paid_amount - locked.credited_amount
    if amount > balance:
        raise OrderInputError(
            {"amount": [f"Invoice {locked.number} has only ${balance:,.2f} open to credit."]}
        )
    if invoice_line is not None:
        already = invoice_line.credit_memos.aggregate(total=Sum("amount"))["total"] or ZERO
        creditable = invoice_line.amount
        if reason == CreditReason.RETURN:
            # The published restocking fee comes off returned goods, as the policies say.
            fee = locked.order.terms.restocking_fee_percent
            creditable = rules.money(invoice_line.amount * (100 - fee) / 100)
        if amount > creditable - already:
            left = creditable - already
            raise OrderInputError(
                {"amount": [f"Only ${left:,.2f} of this line is left to credit."]}
            )
    updated = Invoice.objects.filter(
        pk=locked.pk, total__gte=F("paid_amount") + F("credited_amount") + amount
    ).update(credited_amount=F("credited_amount") + amount)
    if not updated:
        raise OrderInputError({"amount": ["The invoice's open balance changed; try again."]})
    locked.credited_amount += amount
    locked.status = _settled_status(locked)
    locked.save(update_fields=["status"])
    memo = CreditMemo.objects.create(
        number=_next_number(sequence="credit_memo", prefix="CM"),
        invoice=locked,
        invoice_line=invoice_line,
        reason=reason,
        amount=amount,
        note=note,
        issued_on=timezone.localdate(),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        approved_by=approved_by,
    )
    _credit_memo_notice_enqueue(memo=memo)
    webhook_event_enqueue(
        event=WebhookEvent.CREDIT_MEMO_ISSUED,
        key=f"credit_memo.issued:{memo.pk}",
        account=locked.account,
        data=credit_memo_data(memo=memo),
    )
    from orders.tasks import document_render_task

    transaction.on_commit(
        functools.partial(document_render_task.delay, "credit_memo", memo.pk), robust=True
    )
    return memo


def _credit_memo_notice_enqueue(*, memo: CreditMemo):
    """Every credit memo is emailed to the account's people when issued, linking the
    invoice it reduced and the memo's PDF (served once the worker has rendered it)."""
    invoice, order = memo.invoice, memo.invoice.order
    context = {
        "account_name": invoice.account.name,
        "credit_memo_number": memo.number,
        "invoice_number": invoice.number,
        "order_number": order.number,
        "po_number": order.po_number,
        "issued_on": memo.issued_on.isoformat(),
        "amount": str(memo.amount),
        "reason": memo.get_reason_display(),
        "invoice_url": _absolute(reverse("portal:invoice_detail", args=[invoice.number])),
        "pdf_url": _absolute(reverse("portal:credit_memo_pdf", args=[memo.number])),
    }
    if memo.note:
        context["note"] = memo.note
    message_enqueue(
        kind=MessageKind.CREDIT_MEMO,
        key=f"credit-memo:{memo.pk}",
        recipients=account_recipients(account=invoice.account),
        context=context,
    )


@transaction.atomic(durable=True)
def payment_record(
    *,
    invoice: Invoice,
    amount,
    received_on: dt.date | None = None,
    reference: str = "",
    user=None,
) -> Payment:
    """Record money received against an invoice; never more than its open balance."""
    errors = {}
    amount = _amount_validate(amount, errors=errors)
    received_on = received_on or timezone.localdate()
    if not isinstance(received_on, dt.date) or received_on > timezone.localdate():
        errors["received_on"] = ["Enter a date that is not in the future."]
    reference = (reference or "").strip()
    if len(reference) > Payment._meta.get_field("reference").max_length:
        errors["reference"] = ["At most 60 characters."]
    if errors:
        raise OrderInputError(errors)
    held = credit_holds_lock(account_id=invoice.account_id)
    locked = locks.invoice_lock(invoice_id=invoice.pk)
    updated = Invoice.objects.filter(
        pk=locked.pk, total__gte=F("paid_amount") + F("credited_amount") + amount
    ).update(paid_amount=F("paid_amount") + amount)
    if not updated:
        balance = locked.total - locked.paid_amount - locked.credited_amount
        raise OrderInputError(
            {"amount": [f"Invoice {locked.number} has only ${balance:,.2f} open."]}
        )
    locked.paid_amount += amount
    locked.status = _settled_status(locked)
    locked.save(update_fields=["status"])
    payment = Payment.objects.create(
        invoice=locked,
        amount=amount,
        received_on=received_on,
        reference=reference,
        recorded_by=user if getattr(user, "is_authenticated", False) else None,
    )
    credit_holds_review(held=held, today=timezone.localdate())
    return payment


# --- Returns ---------------------------------------------------------------------------


# Not durable: the service desk wraps it in its own transaction (authority, audit).
@transaction.atomic(savepoint=False)
def return_authorize(
    *, order: Order, lines, reason: str, note: str = "", user
) -> ReturnAuthorization:
    """Authorize the return of shipped pairs (never more than shipped less what earlier
    authorizations cover) and queue its printable label."""
    errors = {}
    if reason not in CreditReason.values:
        errors["reason"] = [f"Choose one of: {', '.join(CreditReason.values)}."]
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [f"At most {NOTE_MAX_LENGTH} characters."]
    requested = []
    if not isinstance(lines, list | tuple) or not lines:
        errors["lines"] = ["Add at least one line."]
        lines = []
    seen = set()
    for index, line in enumerate(lines):
        raw_sku, raw_quantity = _line_parts(line)
        code = sku_code_normalize(raw_sku) if raw_sku is not None else ""
        if not code:
            errors[f"lines[{index}].sku"] = ["Enter a SKU."]
        elif code in seen:
            errors[f"lines[{index}].sku"] = [f"SKU {code} is listed twice."]
        seen.add(code)
        quantity = _positive_int(raw_quantity, errors, f"lines[{index}].quantity")
        requested.append((index, code, quantity))
    if errors:
        raise OrderInputError(errors)

    order = locks.order_lock(order_id=order.pk)
    by_code = {line.sku.code.upper(): line for line in locks.order_lines_lock(order_id=order.pk)}
    returned = defaultdict(int)
    for line_id, quantity in ReturnLine.objects.filter(order_line__order=order).values_list(
        "order_line_id", "quantity"
    ):
        returned[line_id] += quantity
    last_shipped = dict(
        ShipmentLine.objects.filter(order_line__order=order)
        .values("order_line_id")
        .annotate(last=Max("shipment__shipped_at"))
        .values_list("order_line_id", "last")
    )
    claim_days = _claim_window_days(reason=reason, terms=order.terms)
    today = timezone.localdate()
    wanted = []
    for index, code, quantity in requested:
        line = by_code.get(code)
        if line is None:
            errors[f"lines[{index}].sku"] = [f"SKU {code} is not on order {order.number}."]
            continue
        shipped_on = last_shipped.get(line.pk)
        if claim_days is not None and shipped_on is not None:
            deadline = timezone.localdate(shipped_on) + dt.timedelta(days=claim_days)
            if today > deadline:
                errors[f"lines[{index}].sku"] = [
                    f"{code} shipped {timezone.localdate(shipped_on):%b %d, %Y}; this kind of "
                    f"return is accepted for {claim_days} days after shipment (until "
                    f"{deadline:%b %d, %Y})."
                ]
                continue
        returnable = line.shipped - returned[line.pk]
        if quantity > returnable:
            errors[f"lines[{index}].quantity"] = [
                f"Only {returnable} shipped pairs of {code} can be returned."
            ]
            continue
        wanted.append((line, quantity))
    if errors:
        raise OrderInputError(errors)
    authorization = ReturnAuthorization.objects.create(
        number=_next_number(sequence="return", prefix="RA"),
        account=order.account,
        order=order,
        reason=reason,
        note=note,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(authorization=authorization, order_line=line, quantity=quantity)
            for line, quantity in wanted
        ]
    )
    from orders.tasks import document_render_task

    transaction.on_commit(
        functools.partial(document_render_task.delay, "return_label", authorization.pk),
        robust=True,
    )
    return authorization


def _claim_window_days(*, reason, terms) -> int | None:
    """The published window for a return: unworn goods and defects have one (from the
    order's commercial terms); damage and shipping mistakes are fixed whenever reported."""
    if reason == CreditReason.RETURN:
        return terms.returns_window_days
    if reason == CreditReason.DEFECT:
        return terms.defect_claim_days
    return None


# --- Statement of account (a read: nothing is written) ---------------------------------

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def aging_bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


@dataclass(frozen=True)
class StatementItem:
    invoice_number: str
    order_number: str
    po_number: str
    issued_on: dt.date
    due_on: dt.date
    total: Decimal
    open_balance: Decimal
    days_past_due: int
    bucket: str


@dataclass(frozen=True)
class Statement:
    account: Account
    as_of: dt.date
    items: list[StatementItem]
    buckets: dict[str, Decimal]
    total_due: Decimal
    past_due: Decimal


def statement_for(*, account: Account, as_of: dt.date) -> Statement:
    """Open invoices as of a date (payments and credits dated after it not yet counted),
    oldest first, with aging buckets by days past due."""
    invoices = (
        Invoice.objects.filter(account=account, issued_on__lte=as_of)
        .select_related("order")
        .annotate(
            paid_by_date=Sum("payments__amount", filter=Q(payments__received_on__lte=as_of)),
        )
        .order_by("due_on", "number")
    )
    credited = dict(
        CreditMemo.objects.filter(invoice__account=account, issued_on__lte=as_of)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    )
    items, buckets = [], dict.fromkeys(AGING_BUCKETS, ZERO)
    for invoice in invoices:
        balance = invoice.total - (invoice.paid_by_date or ZERO) - credited.get(invoice.pk, ZERO)
        if balance <= 0:
            continue
        days = (as_of - invoice.due_on).days
        bucket = aging_bucket(days)
        buckets[bucket] += balance
        items.append(
            StatementItem(
                invoice_number=invoice.number,
                order_number=invoice.order.number,
                po_number=invoice.order.po_number,
                issued_on=invoice.issued_on,
                due_on=invoice.due_on,
                total=invoice.total,
                open_balance=balance,
                days_past_due=max(days, 0),
                bucket=bucket,
            )
        )
    total_due = sum(buckets.values(), ZERO)
    return Statement(
        account=account,
        as_of=as_of,
        items=items,
        buckets=buckets,
        total_due=total_due,
        past_due=total_due - buckets["current"],
    )
