"""Customer service: the actions that resolve a retailer's contact in one touch, each
within the authority of the person taking it, each recorded on the case and in the audit
trail. The admin's buttons and the API call these; the limits live here, so no door can
step around them.

Authority (orders.services.authority): what a person, and the team for one account, may
give over the rolling period of the commercial terms, credits and replacements (goods and
the freight waived) alike; beyond that a second person, a lead or a superuser who is not
the requester, approves the request, and approval issues the memo or sends the goods.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from orders import locks, rules
from orders.audit import audit_record, field_values
from orders.exceptions import OrderInputError
from orders.models import (
    Account,
    AuditEvent,
    Case,
    CaseChannel,
    CaseOutcome,
    CaseReason,
    CaseStatus,
    CommercialTerms,
    ConcessionKind,
    CreditApproval,
    CreditApprovalStatus,
    CreditReason,
    Invoice,
    InvoiceLine,
    Order,
    OrderSource,
)
from orders.services.authority import authority_for, replacement_value
from orders.services.ordering import (
    CancelRequest,
    LineRequest,
    order_cancel_in_transaction,
    order_place_in_transaction,
)

NOTE_MAX = 500
CENT = Decimal("0.01")


class StaffNotAllowed(PermissionDenied):
    """The staff member lacks the permission or the authority for this action."""


# --- who may do what ------------------------------------------------------------------


def _require(user, perm: str, what: str):
    if not (user.is_authenticated and user.is_active and user.is_staff and user.has_perm(perm)):
        raise StaffNotAllowed(f"You do not have permission to {what}.")


def _text(value, field, errors, *, required=False, max_length=NOTE_MAX):
    text = (value or "").strip()
    if required and not text:
        errors[field] = ["This field is required."]
    elif len(text) > max_length:
        errors[field] = [f"At most {max_length} characters."]
    return text


def _open_case(case, errors):
    if case is None:
        errors["case"] = ["Choose the case this action belongs to."]
    elif case.status != CaseStatus.OPEN:
        errors["case"] = [f"Case {case.pk} is resolved; open a new case."]


# --- cases -----------------------------------------------------------------------------


# Cases are opened and resolved from the admin's own forms, whose save path already runs
# in a transaction: the writes join it (and start their own when called anywhere else).
# Checks run before the write, so a refusal never breaks the caller's transaction.


def case_open(
    *,
    account: Account,
    reason: str,
    channel: str,
    user,
    order: Order | None = None,
    summary: str = "",
) -> Case:
    """Log a contact from a retailer: who, about what, through which channel."""
    _require(user, "orders.add_case", "open a case")
    errors = {}
    if reason not in CaseReason.values:
        errors["reason"] = [f"Choose one of: {', '.join(CaseReason.values)}."]
    if channel not in CaseChannel.values:
        errors["channel"] = [f"Choose one of: {', '.join(CaseChannel.values)}."]
    if order is not None and order.account_id != account.pk:
        errors["order"] = ["That order belongs to another account."]
    summary = _text(summary, "summary", errors, max_length=4000)
    if errors:
        raise OrderInputError(errors)
    return _case_create(
        account=account, order=order, reason=reason, channel=channel, summary=summary, user=user
    )


@transaction.atomic(savepoint=False)
def _case_create(*, account, order, reason, channel, summary, user) -> Case:
    case = Case.objects.create(
        account=account,
        order=order,
        reason=reason,
        channel=channel,
        summary=summary,
        opened_by=user,
        opened_at=timezone.now(),
    )
    audit_record(actor=user, action="case.opened", obj=case, reason=summary, case=case)
    return case


@transaction.atomic(savepoint=False)
def case_assign(*, case: Case, owner, user) -> Case:
    """Give a case to one of the brand's people (None: back to the service team)."""
    _require(user, "orders.change_case", "assign a case")
    if owner is not None and not (owner.is_active and owner.is_staff):
        raise OrderInputError({"owner": ["Choose an active member of the brand's staff."]})
    case = locks.case_lock(case_id=case.pk)
    previous = case.owner
    if previous == owner:
        return case
    case.owner = owner
    case.save(update_fields=["owner"])
    audit_record(
        actor=user,
        action="case.assigned",
        obj=case,
        changes={"owner": (_person(previous), _person(owner))},
        case=case,
    )
    return case


def _person(user) -> str:
    return (user.get_full_name() or user.email) if user is not None else "the service team"


def case_resolve(
    *,
    case: Case,
    resolution: str,
    user,
    outcome: str = CaseOutcome.OTHER,
    document_label: str = "",
    document_url: str = "",
) -> Case:
    """Close a case with what was done (the outcome: a credit, a replacement, a return,
    no fault found), and tell the store's people and the rep at once, the document
    linked. The time to resolve is from opening to now."""
    _require(user, "orders.change_case", "resolve a case")
    errors = {}
    resolution = _text(resolution, "resolution", errors, required=True, max_length=4000)
    if outcome not in CaseOutcome.values:
        errors["outcome"] = [f"Choose one of: {', '.join(CaseOutcome.values)}."]
    if errors:
        raise OrderInputError(errors)
    return _case_close(
        case=case,
        resolution=resolution,
        user=user,
        outcome=outcome,
        document=(document_label, document_url),
    )


@transaction.atomic(savepoint=False)
def _case_close(*, case, resolution, user, outcome, document) -> Case:
    from orders.services.resolution_notices import resolution_tell

    case = locks.case_lock(case_id=case.pk)
    if case.status == CaseStatus.RESOLVED:
        return case
    case.status = CaseStatus.RESOLVED
    case.resolution = resolution
    case.outcome = outcome
    case.resolved_by = user
    case.resolved_at = timezone.now()
    case.save(update_fields=["status", "resolution", "outcome", "resolved_by", "resolved_at"])
    audit_record(
        actor=user,
        action="case.resolved",
        obj=case,
        changes={"status": [CaseStatus.OPEN, CaseStatus.RESOLVED], "outcome": [None, outcome]},
        reason=resolution,
        case=case,
    )
    label, url = document
    resolution_tell(
        case=case,
        key=f"case-resolved:{case.pk}",
        headline=f"Case {case.number} resolved: {CaseOutcome(outcome).label.lower()}",
        body=resolution,
        user=user,
        document_label=label,
        document_url=url,
    )
    return case


# --- commercial terms ----------------------------------------------------------------

TERMS_FIXED_FIELDS = {"id", "version", "effective_from", "created_by", "created_at"}


def commercial_terms_revise(*, values: dict, user, note: str = "") -> CommercialTerms:
    """Publish a new version of the commercial terms, in force from now. Existing versions
    never change: orders keep the version they were placed under. The write joins the
    admin's save transaction; every check runs before it."""
    _require(user, "orders.change_commercialterms", "change the commercial terms")
    errors = {}
    note = _text(note, "note", errors, required=True, max_length=200)
    unknown = set(values) - {f.name for f in CommercialTerms._meta.concrete_fields}
    if unknown:
        errors[sorted(unknown)[0]] = ["Not a commercial terms field."]
    if errors:
        raise OrderInputError(errors)
    current = CommercialTerms.objects.order_by("-version").first()
    terms = CommercialTerms(
        **{
            field.name: getattr(current, field.name)
            for field in CommercialTerms._meta.concrete_fields
            if current is not None and field.name not in TERMS_FIXED_FIELDS
        }
    )
    for name, value in values.items():
        if name not in TERMS_FIXED_FIELDS:
            setattr(terms, name, value)
    terms.note = note
    terms.version = (current.version if current else 0) + 1
    terms.effective_from = timezone.now()
    terms.full_clean(exclude=["version", "effective_from"])
    return _terms_publish(terms=terms, user=user, note=note)


@transaction.atomic(savepoint=False)
def _terms_publish(*, terms, user, note) -> CommercialTerms:
    current = locks.commercial_terms_latest_lock()
    terms.version = (current.version if current else 0) + 1
    terms.effective_from = timezone.now()
    terms.created_by = user
    terms.save()
    before = field_values(current) if current else {}
    after = field_values(terms)
    changes = {
        name: [before.get(name), value]
        for name, value in after.items()
        if name not in TERMS_FIXED_FIELDS | {"note"} and before.get(name) != value
    }
    audit_record(actor=user, action="terms.published", obj=terms, changes=changes, reason=note)
    return terms


# --- credits ----------------------------------------------------------------------------


def _amount(raw, errors, field="amount"):
    try:
        amount = Decimal(str(raw).strip().replace(",", "").lstrip("$"))
    except (InvalidOperation, ValueError, TypeError):
        errors[field] = ["Enter an amount such as 125.00."]
        return None
    if not amount.is_finite() or amount <= 0:
        errors[field] = ["The amount must be more than 0."]
        return None
    if amount != amount.quantize(CENT):
        errors[field] = ["Use at most two decimal places."]
        return None
    return amount.quantize(CENT)


def _authority(*, user, account):
    """The user's authority towards the account; the caller holds locks.authority_lock."""
    return authority_for(user=user, account=account, terms=rules.current_terms())


def _authority_changes(authority, value) -> dict:
    return {
        "given_by_you": [str(authority.person_given), str(authority.person_given + value)],
        "given_to_account": [str(authority.account_given), str(authority.account_given + value)],
        "your_limit": [None, str(authority.person_limit)],
        "account_limit": [None, str(authority.account_limit)],
    }


def case_credit_total(*, case: Case) -> Decimal:
    """Credit already given or asked for on a case (issued and still pending)."""
    total = case.credit_requests.filter(
        status__in=[CreditApprovalStatus.APPROVED, CreditApprovalStatus.PENDING]
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


@transaction.atomic(savepoint=False)
def _memo_issue(*, approval: CreditApproval, approver) -> None:
    from orders.services.fulfilment import credit_memo_issue

    approval.credit_memo = credit_memo_issue(
        invoice=approval.invoice,
        amount=approval.amount,
        reason=approval.reason,
        invoice_line=approval.invoice_line,
        note=approval.note,
        user=approval.requested_by,
        approved_by=approver,
    )
    approval.status = CreditApprovalStatus.APPROVED


@transaction.atomic(durable=True)
def credit_issue(
    *,
    case: Case,
    invoice: Invoice,
    amount,
    reason: str,
    user,
    invoice_line: InvoiceLine | None = None,
    note: str = "",
) -> CreditApproval:
    """Credit a retailer on a case. Within the user's authority (authority_for: what
    they and the account were given over the period) the memo is issued at once; above it
    a pending request waits for a second person. Never more than the invoice's open
    balance."""
    _require(user, "orders.add_creditmemo", "issue credits")
    errors = {}
    amount = _amount(amount, errors)
    if reason not in CreditReason.values:
        errors["reason"] = [f"Choose one of: {', '.join(CreditReason.values)}."]
    note = _text(note, "note", errors, required=True)
    if case is not None:
        locks.authority_lock(account_id=case.account_id, user_id=user.pk)
        case = locks.case_lock(case_id=case.pk)
    _open_case(case, errors)
    if case is not None and invoice.account_id != case.account_id:
        errors["invoice"] = ["That invoice belongs to another account."]
    if invoice_line is not None and invoice_line.invoice_id != invoice.pk:
        errors["invoice_line"] = ["That line is not on this invoice."]
    if amount is not None and "invoice" not in errors:
        balance = Invoice.objects.get(pk=invoice.pk).open_balance
        if amount > balance:
            errors["amount"] = [f"The invoice's open balance is {balance}; credit at most that."]
    if errors:
        raise OrderInputError(errors)

    return credit_request_record(
        case=case,
        invoice=invoice,
        invoice_line=invoice_line,
        amount=amount,
        reason=reason,
        note=note,
        user=user,
    )


@transaction.atomic(savepoint=False)
def credit_request_record(
    *, case, invoice, amount, reason, note, user, invoice_line=None, return_authorization=None
) -> CreditApproval:
    """A checked credit, judged against the user's authority: issued now, or left
    waiting for a second person. The caller holds locks.authority_lock."""
    authority = _authority(user=user, account=case.account)
    approval = CreditApproval(
        case=case,
        kind=ConcessionKind.CREDIT,
        invoice=invoice,
        invoice_line=invoice_line,
        return_authorization=return_authorization,
        amount=amount,
        reason=reason,
        note=note,
        requested_by=user,
        requested_at=timezone.now(),
        needed_approval=not authority.allows(amount),
    )
    approval.authority = authority  # not stored: what the request was judged against
    if approval.needed_approval:
        approval.save()
        action = "credit.requested"
    else:
        _memo_issue(approval=approval, approver=None)
        approval.save()
        action = "credit.issued"
    audit_record(
        actor=user,
        action=action,
        obj=invoice,
        changes={
            "credit": [None, str(amount)],
            "credit_memo": [None, approval.credit_memo.number if approval.credit_memo else None],
            **_authority_changes(authority, amount),
        },
        reason=f"{CreditReason(reason).label}: {note}",
        case=case,
    )
    return approval


@transaction.atomic(durable=True)
def credit_approval_decide(
    *, approval: CreditApproval, user, approve: bool, note: str = ""
) -> CreditApproval:
    """A second person approves (the memo is issued or the replacement placed now) or
    rejects a pending request.
    Only a lead or a superuser, and never the person who asked."""
    _require(user, "orders.decide_creditapproval", "approve credits")
    errors = {}
    note = _text(note, "note", errors, required=not approve)
    if errors:
        raise OrderInputError(errors)
    locks.case_lock(case_id=approval.case_id)
    approval = locks.credit_approval_lock(approval_id=approval.pk)
    if approval.requested_by_id == user.pk:
        raise StaffNotAllowed("A credit you asked for must be approved by someone else.")
    if approval.status != CreditApprovalStatus.PENDING:
        raise OrderInputError(
            {"status": [f"This request is already {approval.get_status_display().lower()}."]}
        )
    approval.decided_by = user
    approval.decided_at = timezone.now()
    approval.decision_note = note
    if approve and approval.kind == ConcessionKind.REPLACEMENT:
        _replacement_place(approval=approval, user=user)
    elif approve:
        _memo_issue(approval=approval, approver=user)
    else:
        approval.status = CreditApprovalStatus.REJECTED
    approval.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "credit_memo",
            "replacement_order",
        ]
    )
    audit_record(
        actor=user,
        action="credit.approved" if approve else "credit.rejected",
        obj=approval.invoice or approval.order,
        changes={
            "credit_request": [CreditApprovalStatus.PENDING, approval.status],
            "credit_memo": [None, approval.credit_memo.number if approval.credit_memo else None],
            "replacement_order": [
                None,
                approval.replacement_order.number if approval.replacement_order else None,
            ],
        },
        reason=note or f"Approved {approval.get_kind_display().lower()} of {approval.amount}",
        case=approval.case,
    )
    if approve and approval.return_authorization_id:
        from orders.services.returns import return_credited_if_done

        return_credited_if_done(authorization=approval.return_authorization, user=user)
    return approval


# --- returns, replacements, cancellations ----------------------------------------------


@transaction.atomic(durable=True)
def return_create(*, case: Case, order: Order, lines: list, reason: str, user, note: str = ""):
    """Authorize a return with a printable label and the items expected back. ``lines``
    are [{"sku": code, "quantity": n}] of shipped pairs."""
    from orders.services.fulfilment import return_authorize

    _require(user, "orders.add_returnauthorization", "authorize returns")
    errors = {}
    if case is not None:
        case = locks.case_lock(case_id=case.pk)
    _open_case(case, errors)
    if case is not None and order.account_id != case.account_id:
        errors["order"] = ["That order belongs to another account."]
    note = _text(note, "note", errors)
    if errors:
        raise OrderInputError(errors)
    authorization = return_authorize(order=order, lines=lines, reason=reason, note=note, user=user)
    authorization.case = case
    authorization.save(update_fields=["case"])
    audit_record(
        actor=user,
        action="return.authorized",
        obj=order,
        changes={
            "return_authorization": [None, authorization.number],
            "items": [
                None,
                {
                    line.order_line.sku.code: line.quantity
                    for line in authorization.lines.select_related("order_line__sku")
                },
            ],
        },
        reason=note or CreditReason(reason).label,
        case=case,
    )
    return authorization


def _staff_precheck(*, case, order, user, perm, what):
    _require(user, perm, what)
    errors = {}
    _open_case(case, errors)
    if case is not None and order.account_id != case.account_id:
        errors["order"] = ["That order belongs to another account."]
    return errors


def replacement_send(
    *, case: Case, order: Order, lines: list[LineRequest], user, note: str = ""
) -> CreditApproval:
    """Send replacement goods at no charge to the order's ship-to, through the ordering
    service (allocated now, the retailer gets the usual confirmation). The goods and the
    freight waived count against the sender's authority; above it the request waits for
    a second person, whose approval places the order. Asking for the same replacement
    twice on a case (a double click) gives the first request back."""
    errors = _staff_precheck(
        case=case, order=order, user=user, perm="orders.send_replacement", what="send replacements"
    )
    note = _text(note, "note", errors, required=True)
    if not lines:
        errors["lines"] = ["Enter a quantity to send on at least one line."]
    if errors:
        raise OrderInputError(errors)
    value = replacement_value(order=order, lines=lines)
    wanted = sorted(
        ({"sku": str(line.sku).strip().upper(), "quantity": line.quantity} for line in lines),
        key=lambda line: line["sku"],
    )
    return _replacement_request(
        case=case, order=order, lines=wanted, value=value, user=user, note=note
    )


def _replacement_key(approval) -> str:
    lines = ",".join(f"{line['sku']}x{line['quantity']}" for line in approval.replacement_lines)
    return f"replacement:{approval.case_id}:{lines}"[:255]


@transaction.atomic(savepoint=False)
def _replacement_place(*, approval: CreditApproval, user) -> None:
    """The no-charge order for an approved replacement, through the ordering service."""
    order = approval.order
    result = order_place_in_transaction(
        account=order.account,
        user=user,
        lines=[
            LineRequest(sku=line["sku"], quantity=line["quantity"])
            for line in approval.replacement_lines
        ],
        po_number=f"Replacement for {order.number}"[:40],
        ship_to=order.ship_to_id,
        backorder_policy="none",
        source=OrderSource.SERVICE,
        idempotency_key=_replacement_key(approval),
        no_charge=True,
    )
    approval.replacement_order = result.order
    approval.status = CreditApprovalStatus.APPROVED


@transaction.atomic(durable=True)
def _replacement_request(*, case, order, lines, value, user, note) -> CreditApproval:
    """The request, and the order when it is within authority, in one transaction."""
    locks.authority_lock(account_id=order.account_id, user_id=user.pk)
    case = locks.case_lock(case_id=case.pk)
    _open_case(case, errors := {})
    if errors:
        raise OrderInputError(errors)
    earlier = (
        CreditApproval.objects.filter(
            case=case, kind=ConcessionKind.REPLACEMENT, replacement_lines=lines
        )
        .exclude(status=CreditApprovalStatus.REJECTED)
        .select_related("replacement_order")
        .first()
    )
    if earlier is not None:
        return earlier
    authority = _authority(user=user, account=case.account)
    approval = CreditApproval(
        case=case,
        kind=ConcessionKind.REPLACEMENT,
        order=order,
        replacement_lines=lines,
        amount=value.total,
        freight_value=value.freight,
        reason=CreditReason(case.reason).value if case.reason in CreditReason.values else "",
        note=note,
        requested_by=user,
        requested_at=timezone.now(),
        needed_approval=not authority.allows(value.total),
    )
    approval.authority = authority  # not stored: what the request was judged against
    if not approval.needed_approval:
        _replacement_place(approval=approval, user=user)
    approval.save()
    audit_record(
        actor=user,
        action="replacement.requested" if approval.needed_approval else "replacement.sent",
        obj=order,
        changes={
            "replacement_order": [
                None,
                approval.replacement_order.number if approval.replacement_order else None,
            ],
            "value": [None, str(value.total)],
            "freight_waived": [None, str(value.freight)],
            **_authority_changes(authority, value.total),
        },
        reason=note,
        case=case,
    )
    return approval


def order_lines_cancel(
    *, case: Case, order: Order, user, reason: str, lines: list[CancelRequest] | None = None
) -> Order:
    """Cancel open quantities of a retailer's order on their behalf (all of it when no
    lines are given); stock and inbound promises go back at once."""
    errors = _staff_precheck(
        case=case, order=order, user=user, perm="orders.cancel_order_lines", what="cancel lines"
    )
    reason = _text(reason, "reason", errors, required=True, max_length=200)
    if errors:
        raise OrderInputError(errors)
    return _lines_cancel(case=case, order=order, user=user, reason=reason, lines=lines)


@transaction.atomic(durable=True)
def _lines_cancel(*, case, order, user, reason, lines) -> Order:
    """The cancellation and its record on the case, in one transaction."""
    before = {
        line.pk: field_values(line, {"allocated", "backordered", "cancelled"})
        for line in order.lines.all()
    }
    order = order_cancel_in_transaction(
        order=order, user=user, lines=lines, reason=reason, staff=True
    )
    changes = {}
    for line in order.lines.select_related("sku"):
        after = field_values(line, {"allocated", "backordered", "cancelled"})
        for field, value in after.items():
            old = before.get(line.pk, {}).get(field)
            if old != value:
                changes[f"{line.sku.code}.{field}"] = [old, value]
    audit_record(
        actor=user,
        action="order.lines_cancelled",
        obj=order,
        changes=changes,
        reason=reason,
        case=case,
    )
    return order


# --- Messages -----------------------------------------------------------------


def message_resend_staff(*, message, user, case: Case | None = None, reason: str = ""):
    """Send a message again to the recipient's current address; logged on the case.
    The resend is the outbox's own transaction; two clicks in a minute make one resend
    and one record."""
    from notifications.services import message_resend

    _require(user, "notifications.resend_message", "resend messages")
    if case is not None and case.status != CaseStatus.OPEN:
        raise OrderInputError({"case": [f"Case {case.pk} is resolved; open a new case."]})
    resend = message_resend(message=message, by_user=user)
    _resend_record(message=message, resend=resend, user=user, case=case, reason=reason)
    return resend


@transaction.atomic(durable=True)
def _resend_record(*, message, resend, user, case, reason):
    if AuditEvent.objects.filter(action="message.resent", changes__resend__1=resend.key).exists():
        return
    audit_record(
        actor=user,
        action="message.resent",
        obj=message,
        changes={"resend": [None, resend.key]},
        reason=(reason or "").strip() or f"Resent {message.get_kind_display()}",
        case=case,
    )


__all__ = [
    "CancelRequest",
    "LineRequest",
    "StaffNotAllowed",
    "case_credit_total",
    "case_open",
    "case_resolve",
    "commercial_terms_revise",
    "credit_approval_decide",
    "credit_issue",
    "message_resend_staff",
    "order_lines_cancel",
    "replacement_send",
    "return_create",
]
