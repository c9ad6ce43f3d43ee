"""The message kinds, in one place, with the context each one is rendered from.

Callers (ordering, backorders, fulfilment) build the context themselves: plain JSON
values only. Dates are ISO strings ("2026-03-14"), money is a decimal string
("1234.50"), quantities are ints, URLs are absolute. ``message_enqueue`` rejects
anything else, and a context missing one of the kind's required keys.

Every kind has three templates under ``templates/notifications/``:
``<kind>_subject.txt``, ``<kind>.txt`` and ``<kind>.html`` (the HTML one includes
``_body/<kind>.html``, which the daily digest reuses). Keys marked optional may be
left out; the templates show them only when present.

ORDER_CONFIRMATION ("order_confirmation"), sent when an order is placed, and again
when it is changed (with "change")::

    {"account_name": "Comfort Shoes of Burlington",
     "order_number": "SO-10042", "po_number": "PO-7781",
     "placed_by": "Dana Reyes",                                  # optional
     "ship_to": "12 Church St, Burlington VT 05401",             # optional
     "lines": [{"sku": "WLK-BLK-085M", "description": "Walker, Black, 8.5 M",
                "quantity": 12, "allocated": 8, "backordered": 4,
                "promised_date": "2026-04-02",   # date the brand committed to
                "line_id": 4711,                 # optional: completed at rendering
                "expected_date": "2026-04-02"}], # optional; "" or null if in stock
     "subtotal": "720.00",                                       # optional
     "freight": "0.00", "total": "720.00",
     "order_url": "https://.../orders/SO-10042/",
     "credit_hold": [{"reason": "...", "release": "..."}],      # optional: held, and why
     "change": {"added": [{"line": 7, "sku": "...", "quantity": 6}],  # optional: a change
                "reduced": [{"line": 3, "sku": "...", "quantity": 2}]}}

  Placement stores the lines as placed, with their ids; the expected dates and pictures
  are added when the message is rendered, by the worker that delivers it (orders
  registers the completer: context_completer_register), not in the order's transaction.

ETA_MOVED ("eta_moved"): ONE message per person per ETA change, listing every affected
line of their account (key e.g. f"eta:{eta_change.pk}:{account.pk}"; a buyer asked
to decide gets DECISION_REQUEST under the same key instead). Also one per person when
the ledger moves lines to a later run without an ETA change (a cancelled run's lines
re-pegged, fair fill giving a younger line's run to an older order): old_eta and
new_eta are then null and the lines carry their dates::

    {"account_name": "...", "run_reference": "RUN-00012",
     "old_eta": "2026-04-01", "new_eta": "2026-04-15",
     "reason": "Factory closed for the holiday",                 # optional
     "lines": [{"order_number", "po_number", "sku", "description",
                "quantity", "old_date", "new_date"}],            # may be []
     "asked_lines": [...],     # optional: lines the account's buyers were asked about
                               # (as DECISION_REQUEST's lines), for those who are told
     "orders_url": "https://.../orders/"}                        # optional

DECISION_REQUEST ("decision_request"), always sent immediately: ONE message per buyer
per ETA change, every line of the account pushed past its window with its options,
answered on one page::

    {"account_name": "...", "run_reference": "RUN-00012",
     "old_eta": "2026-04-01", "new_eta": "2026-04-29",
     "reason": "...",                                            # optional
     "deadline": "2026-03-20",     # the earliest; no answer by then applies the default
     "default_action": "cancel",          # optional: "keep" | "cancel"
     "lines": [{"order_number", "po_number", "sku", "description", "quantity",
                "old_date", "new_date", "deadline",
                "alternatives": [{"sku", "description", "ships_by"}]}],  # may be []
     "moved_lines": [...],         # optional: lines that only moved (as ETA_MOVED's)
     "decide_url", "keep_all_url", "cancel_all_url",             # signed, absolute
     "orders_url": "https://..."}                                # optional

AUTO_CANCEL ("auto_cancel"), backordered quantity cancelled by the system::

    {"account_name": "...", "reason": "Past your 45-day backorder window",
     "lines": [{"order_number", "po_number", "sku", "description",
                "quantity", "promised_date",                     # promised_date optional
                "alternatives": [{"sku", "description", "ships_by"}]}],  # optional
     "orders_url": "https://.../orders/"}                        # optional

STOCK_SHORTAGE ("stock_shortage"), a warehouse count fell below what was allocated:
ONE message per account per count, every line it touched::

    {"account_name": "...",
     "lines": [{"order_number", "po_number", "sku", "description", "quantity",
                "outcome": "backordered" | "cancelled",
                "expected_date": "2026-04-20"}],                  # optional
     "orders_url": "https://..."}                                # optional

BACKORDER_FILLED ("backorder_filled"), a receipt filled backordered quantity::

    {"account_name": "...", "run_reference": "RUN-00012",
     "ship_date": "2026-04-05",                                  # optional
     "lines": [{"order_number", "po_number", "sku", "description", "quantity"}],
     "orders_url": "https://..."}                                # optional

SHIPMENT ("shipment")::

    {"account_name": "...", "order_number": "SO-10042", "po_number": "PO-7781",
     "shipped_on": "2026-03-16", "carrier": "UPS",
     "packages": [{"tracking": "1Z999...", "tracking_url": "https://..."}],
     "lines": [{"sku", "description", "quantity"}],
     "remaining_backordered": 4,                                 # optional
     "order_url": "https://..."}

INVOICE ("invoice")::

    {"account_name": "...", "invoice_number": "INV-20931",
     "order_number": "SO-10042", "po_number": "PO-7781",
     "issued_on": "2026-03-16", "due_date": "2026-04-15", "terms": "Net 30",
     "subtotal": "720.00", "freight": "0.00", "total": "720.00",
     "invoice_url": "https://...", "pdf_url": "https://..."}     # pdf_url optional

CREDIT_MEMO ("credit_memo"), a credit memo issued on one of the account's invoices::

    {"account_name": "...", "credit_memo_number": "CM-00311",
     "invoice_number": "INV-20931", "order_number": "SO-10042",
     "po_number": "PO-7781", "issued_on": "2026-03-20", "amount": "120.00",
     "reason": "Manufacturing defect", "note": "Two pairs with split soles",  # note optional
     "invoice_url": "https://.../invoices/INV-20931/",
     "pdf_url": "https://.../credit-memos/CM-00311/pdf/"}

CREDIT_RELEASED ("credit_released"), an order held for credit was released (by customer
service, or by a payment that cleared the account): it will ship. ONE message per hold
(key f"credit-released:{order.pk}:{held at}")::

    {"account_name": "...", "order_number": "SO-10042", "po_number": "PO-7781",
     "total": "720.00", "order_url": "https://.../orders/SO-10042/"}

GENERIC ("generic"), a plain note from the brand (customer service, announcements)::

    {"headline": "...", "body": "plain text, paragraphs separated by blank lines",
     "url": "https://...", "url_label": "Open"}                  # url* optional

CASE_UPDATE ("case_update"), news on a service case: a claim received, a reply from
the other side, a resolution with its document::

    {"account_name": "...", "case_number": "CS-000042",
     "headline": "Trailwise replied on case CS-000042",
     "body": "plain text, paragraphs separated by blank lines",
     "case_url": "https://.../cases/CS-000042/",
     "document_label": "Credit memo CM-000012",                # optional
     "document_url": "https://...",                            # optional
     "reply_to": "case-42-5f1e...@reply.trailwise.example"}    # optional: the case's
                                                                # signed reply address

BACK_IN_STOCK ("back_in_stock"), a size a buyer asked about is available again::

    {"account_name": "...", "sku": "WLK-BLK-085M", "description": "Walker, Black, 8.5 M",
     "ats": 24, "style_url": "https://.../catalogue/WLK/"}

PASSWORD_RESET ("password_reset"), a link to choose a new password; the context is
empty: the link is made when the email is rendered (never stored in the outbox, where
customer service can read rows) and is not listed in the portal feed::

    {}

PASSWORD_CHANGED ("password_changed"), always sent: the password of the account was
changed or reset, so someone who did not do it can act::

    {"changed_at": "2026-03-14T09:30:00-04:00",
     "reset_url": "https://.../accounts/password_reset/"}

DIGEST ("digest") is written by the daily digest job, never by callers: its items
are the held messages that point at it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models


class MessageKind(models.TextChoices):
    ORDER_CONFIRMATION = "order_confirmation", "Order confirmation"
    ETA_MOVED = "eta_moved", "Delivery date changed"
    DECISION_REQUEST = "decision_request", "Decision needed on a late backorder"
    AUTO_CANCEL = "auto_cancel", "Backorder cancelled"
    STOCK_SHORTAGE = "stock_shortage", "Stock shortage"
    BACKORDER_FILLED = "backorder_filled", "Backorder filled"
    SHIPMENT = "shipment", "Shipment"
    INVOICE = "invoice", "Invoice issued"
    CREDIT_MEMO = "credit_memo", "Credit memo issued"
    CREDIT_RELEASED = "credit_released", "Order released from credit hold"
    GENERIC = "generic", "Note from Trailwise"
    CASE_UPDATE = "case_update", "Service case update"
    BACK_IN_STOCK = "back_in_stock", "Back in stock"
    PASSWORD_RESET = "password_reset", "Password reset"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    DIGEST = "digest", "Daily digest"


@dataclass(frozen=True)
class KindSpec:
    required: tuple[str, ...]
    # The context key holding the link the portal feed opens, if any.
    url_key: str = ""
    # Some messages cannot wait for a digest or be switched off: the retailer must act.
    always_immediate: bool = False
    # Shown on the preferences page.
    user_configurable: bool = True


SPECS: dict[str, KindSpec] = {
    MessageKind.ORDER_CONFIRMATION: KindSpec(
        required=("account_name", "order_number", "po_number", "lines", "total"),
        url_key="order_url",
    ),
    MessageKind.ETA_MOVED: KindSpec(
        required=("account_name", "run_reference", "old_eta", "new_eta", "lines"),
        url_key="orders_url",
    ),
    MessageKind.DECISION_REQUEST: KindSpec(
        required=(
            "account_name",
            "run_reference",
            "new_eta",
            "deadline",
            "lines",
            "decide_url",
            "keep_all_url",
            "cancel_all_url",
        ),
        url_key="decide_url",
        always_immediate=True,
    ),
    MessageKind.AUTO_CANCEL: KindSpec(
        required=("account_name", "reason", "lines"), url_key="orders_url"
    ),
    MessageKind.STOCK_SHORTAGE: KindSpec(required=("account_name", "lines"), url_key="orders_url"),
    MessageKind.BACKORDER_FILLED: KindSpec(
        required=("account_name", "run_reference", "lines"), url_key="orders_url"
    ),
    MessageKind.SHIPMENT: KindSpec(
        required=("account_name", "order_number", "po_number", "carrier", "packages", "lines"),
        url_key="order_url",
    ),
    MessageKind.INVOICE: KindSpec(
        required=("account_name", "invoice_number", "order_number", "total", "due_date"),
        url_key="invoice_url",
    ),
    MessageKind.CREDIT_MEMO: KindSpec(
        required=(
            "account_name",
            "credit_memo_number",
            "invoice_number",
            "amount",
            "reason",
            "invoice_url",
            "pdf_url",
        ),
        url_key="invoice_url",
    ),
    MessageKind.CREDIT_RELEASED: KindSpec(
        required=("account_name", "order_number", "po_number", "total", "order_url"),
        url_key="order_url",
    ),
    MessageKind.GENERIC: KindSpec(required=("headline", "body"), url_key="url"),
    MessageKind.CASE_UPDATE: KindSpec(
        required=("account_name", "case_number", "headline", "body", "case_url"),
        url_key="case_url",
    ),
    MessageKind.BACK_IN_STOCK: KindSpec(
        required=("account_name", "sku", "description", "ats", "style_url"), url_key="style_url"
    ),
    MessageKind.PASSWORD_RESET: KindSpec(
        required=(), user_configurable=False, always_immediate=True
    ),
    MessageKind.PASSWORD_CHANGED: KindSpec(
        required=("changed_at", "reset_url"), user_configurable=False, always_immediate=True
    ),
    MessageKind.DIGEST: KindSpec(required=(), user_configurable=False, always_immediate=True),
}


def spec_for(kind: str) -> KindSpec:
    return SPECS[kind]


# What a kind's stored context leaves to delivery time: the app that owns the event
# registers a function adding it (reads the event's transaction need not make). The
# outbox stays a leaf: it calls what was registered and imports nothing of the caller.
_COMPLETERS: dict[str, Callable[[dict], dict]] = {}


def context_completer_register(kind: str, completer: Callable[[dict], dict]) -> None:
    _COMPLETERS[MessageKind(kind)] = completer


def context_complete(kind: str, context: dict) -> dict:
    """The context a message is rendered from: as stored, with what its kind's
    registered completer adds at delivery time."""
    completer = _COMPLETERS.get(kind)
    return completer(context) if completer else context


def configurable_kinds() -> list[MessageKind]:
    return [kind for kind in MessageKind if SPECS[kind].user_configurable]
