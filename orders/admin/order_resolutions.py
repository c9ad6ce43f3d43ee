"""Customer service's resolutions on the order page: one form per action, each calling a
service in orders.services.service_desk (where the authority limits live)."""

from django import forms
from django.contrib import messages
from django.db.models import Sum
from django.urls import reverse

from notifications.models import Message
from orders.admin.order_actions import (
    ActionDone,
    ActionForm,
    case_field,
    order_action_register,
)
from orders.admin.order_page import order_messages
from orders.exceptions import OrderInputError
from orders.models import (
    CaseChannel,
    CaseReason,
    CreditApprovalStatus,
    CreditReason,
    Invoice,
    InvoiceLine,
    ReturnLine,
)
from orders.services import service_desk
from orders.services.ordering import CancelRequest, LineRequest
from orders.services.resolution_notices import absolute


class CaseOpenForm(ActionForm):
    reason = forms.ChoiceField(choices=CaseReason.choices)
    channel = forms.ChoiceField(choices=CaseChannel.choices)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)


class CreditForm(ActionForm):
    case = case_field()
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none())
    invoice_line = forms.ModelChoiceField(
        queryset=InvoiceLine.objects.none(),
        required=False,
        help_text="Leave empty to credit the invoice as a whole (e.g. freight).",
    )
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0.01)
    reason = forms.ChoiceField(choices=[c for c in CreditReason.choices if c[0] != "return"])
    note = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.fields["invoice"].queryset = order.invoices.all()
        invoices = list(order.invoices.values_list("pk", flat=True)[:2])
        if len(invoices) == 1 and not self.is_bound:
            self.fields["invoice"].initial = invoices[0]
        self.fields["invoice_line"].queryset = InvoiceLine.objects.filter(
            invoice__order=order
        ).select_related("invoice")
        self.fields["invoice_line"].label_from_instance = lambda line: (
            f"{line.invoice.number}: {line.description} ({line.amount})"
        )


class ReturnForm(ActionForm):
    case = case_field()
    reason = forms.ChoiceField(choices=CreditReason.choices)
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea({"rows": 2}))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        returned = dict(
            ReturnLine.objects.filter(order_line__order=order)
            .values_list("order_line_id")
            .annotate(total=Sum("quantity"))
        )
        shipped = [line for line in order.lines.select_related("sku") if line.shipped]
        self.add_line_fields(
            shipped,
            label=lambda line: f"Shipped {line.shipped}, returned {returned.get(line.pk, 0)}",
            limit=lambda line: max(line.shipped - returned.get(line.pk, 0), 0),
        )


class ReplacementForm(ActionForm):
    case = case_field()
    note = forms.CharField(
        max_length=500,
        widget=forms.Textarea({"rows": 2}),
        help_text="Why the replacement is sent (kept on the case).",
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.add_line_fields(
            list(order.lines.select_related("sku")),
            label=lambda line: f"Ordered {line.quantity}, shipped {line.shipped}",
            limit=lambda line: line.quantity,
        )


class CancelLinesForm(ActionForm):
    case = case_field()
    reason = forms.CharField(max_length=200, help_text="Shown to the retailer.")

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.add_line_fields(
            [line for line in order.lines.select_related("sku") if line.open_quantity],
            label=lambda line: (
                f"Open {line.open_quantity} "
                f"({line.allocated} allocated, {line.backordered} backordered)"
            ),
            limit=lambda line: line.open_quantity,
        )


class ResendForm(ActionForm):
    case = case_field(required=False)
    message = forms.ModelChoiceField(queryset=Message.objects.none())
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        ids = [message.pk for message in order_messages(order)]
        self.fields["message"].queryset = Message.objects.filter(pk__in=ids).select_related(
            "recipient"
        )
        self.fields["message"].label_from_instance = lambda m: (
            f"{m.get_kind_display()} to {m.to_email or m.recipient} "
            f"({m.created_at:%Y-%m-%d %H:%M}, {m.get_status_display().lower()})"
        )


def _do_case_open(form, request, order):
    case = service_desk.case_open(
        account=order.account,
        order=order,
        reason=form.cleaned_data["reason"],
        channel=form.cleaned_data["channel"],
        summary=form.cleaned_data["summary"],
        user=request.user,
    )
    return ActionDone(f"Opened case {case.number}.")


def _do_credit(form, request, order):
    data = form.cleaned_data
    approval = service_desk.credit_issue(
        case=data["case"],
        invoice=data["invoice"],
        invoice_line=data["invoice_line"],
        amount=data["amount"],
        reason=data["reason"],
        note=data["note"],
        user=request.user,
    )
    if approval.status == CreditApprovalStatus.PENDING:
        return _waiting(approval)
    memo = approval.credit_memo
    return ActionDone(
        f"Issued credit memo {memo.number} for ${approval.amount}.",
        document_label=f"Credit memo {memo.number}",
        document_url=absolute(reverse("portal:credit_memo_pdf", args=[memo.number])),
    )


def _waiting(approval):
    """A request above the user's authority: not done, so it reads as an error."""
    return ActionDone(
        f"Not given: {approval.authority.explain(approval.amount)} "
        f"It waits for a second person's approval ({approval}).",
        messages.ERROR,
    )


def _do_return(form, request, order):
    chosen = form.chosen_lines()
    if not chosen:
        raise OrderInputError({"lines": ["Enter the quantity expected back on at least one line."]})
    authorization = service_desk.return_create(
        case=form.cleaned_data["case"],
        order=order,
        lines=[{"sku": line.sku.code, "quantity": qty} for _, line, qty in chosen],
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
        user=request.user,
    )
    return ActionDone(
        f"Authorized return {authorization.number}; its prepaid label is being prepared.",
        document_label=f"Prepaid return label {authorization.number}",
        document_url=absolute(reverse("portal:return_label_pdf", args=[authorization.number])),
    )


def _do_replacement(form, request, order):
    chosen = form.chosen_lines()
    if not chosen:
        raise OrderInputError({"lines": ["Enter a quantity to send on at least one line."]})
    approval = service_desk.replacement_send(
        case=form.cleaned_data["case"],
        order=order,
        lines=[LineRequest(sku=line.sku.code, quantity=qty) for _, line, qty in chosen],
        note=form.cleaned_data["note"],
        user=request.user,
    )
    if approval.status == CreditApprovalStatus.PENDING:
        return _waiting(approval)
    number = approval.replacement_order.number
    return ActionDone(
        f"Replacement order {number} placed at no charge "
        f"(worth ${approval.amount}, freight included).",
        document_label=f"Replacement order {number}",
        document_url=absolute(reverse("portal:order_detail", args=[number])),
    )


def _do_cancel(form, request, order):
    chosen = form.chosen_lines()
    if not chosen:
        raise OrderInputError({"lines": ["Enter a quantity to cancel on at least one line."]})
    service_desk.order_lines_cancel(
        case=form.cleaned_data["case"],
        order=order,
        lines=[CancelRequest(line_id=line.pk, quantity=qty) for _, line, qty in chosen],
        reason=form.cleaned_data["reason"],
        user=request.user,
    )
    return ActionDone("Cancelled; stock and inbound promises were released.")


def _do_resend(form, request, order):
    data = form.cleaned_data
    service_desk.message_resend_staff(
        message=data["message"], case=data["case"], reason=data["reason"], user=request.user
    )
    return ActionDone(f"{data['message'].get_kind_display()} queued to resend.")


_BUILT_IN = [  # slug, title, form, handler, permission, GET parameters preselecting a field
    ("case", "Open a case", CaseOpenForm, _do_case_open, "orders.add_case", ()),
    ("credit", "Issue a credit", CreditForm, _do_credit, "orders.add_creditmemo", ()),
    ("return", "Authorize a return", ReturnForm, _do_return, "orders.add_returnauthorization", ()),
    (
        "replacement",
        "Send a replacement",
        ReplacementForm,
        _do_replacement,
        "orders.send_replacement",
        (),
    ),
    ("cancel", "Cancel lines", CancelLinesForm, _do_cancel, "orders.cancel_order_lines", ()),
    (
        "resend",
        "Resend a message",
        ResendForm,
        _do_resend,
        "notifications.resend_message",
        ("message",),
    ),
]
for _position, (_slug, _title, _form, _handler, _permission, _initial) in enumerate(_BUILT_IN):
    order_action_register(
        slug=_slug,
        title=_title,
        form=_form,
        handler=_handler,
        permission=_permission,
        position=10 * (_position + 1),
        query_initial=_initial,
    )
