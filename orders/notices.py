"""Messages about orders, written to the notifications outbox inside the event's
transaction. Contexts carry only JSON values (ISO dates, decimal strings)."""

from collections import defaultdict
from urllib.parse import urljoin

from django.conf import settings
from django.urls import reverse

from inventory.selectors import pictures_by_style, pictures_of
from notifications.kinds import MessageKind
from notifications.services import message_enqueue, message_rows
from orders.models import Membership, OrderLine
from orders.selectors import line_promises


def account_recipients(*, account, extra=(), members=None):
    """Everyone at the account (`members`: its users, when the caller has read them),
    plus anyone else involved (e.g. the rep who placed it)."""
    if members is None:
        memberships = Membership.objects.filter(account=account).select_related("user")
        members = [membership.user for membership in memberships]
    users = list(members)
    users.extend(user for user in extra if user is not None and user not in users)
    return [user for user in users if user.is_active]


def _iso(value):
    return value.isoformat() if value else None


def _picture(pictures, color) -> dict:
    """A line's thumbnail for an email: an absolute URL (mail clients have no base)."""
    picture = next(iter(pictures_of(pictures, color)), None)
    if picture is None:
        return {}
    return {"picture": urljoin(settings.SITE_URL, picture.thumb), "picture_alt": picture.alt}


def order_confirmation_enqueue(
    *, order, lines, recipients=None, change=None, preferences=None
) -> None:
    """The confirmation's outbox row, written in the event's transaction from what it
    holds in memory: each line's split as placed, with its id (`recipients`: the
    account's people, when the caller has read them). Pictures and expected dates are
    added when the message is rendered (order_confirmation_complete), after the commit,
    by the worker that delivers it. After a change (an OrderEdit) the same message,
    saying what changed, under the change's own key. `preferences`: the recipients'
    confirmation preferences the caller read (see message_enqueue)."""
    message_enqueue(
        kind=MessageKind.ORDER_CONFIRMATION,
        key=f"order-change:{change.pk}" if change else f"order-confirmation:{order.pk}",
        recipients=recipients
        if recipients is not None
        else account_recipients(account=order.account, extra=[order.placed_by]),
        context=_confirmation_context(order=order, lines=lines, change=change),
        new_event=True,
        preferences=preferences,
    )


def order_confirmation_rows(*, order, lines, recipients, preferences=None, pks=()) -> list:
    """A new order's confirmation rows as order_confirmation_enqueue writes them, built
    but not written: the placement writes them with its order's rows in one round trip
    (ledger.lines_place) and then calls notifications.services.messages_written. `pks`:
    one per recipient, drawn from the outbox's sequence (orders.locks.placement_start)."""
    return message_rows(
        kind=MessageKind.ORDER_CONFIRMATION,
        key=f"order-confirmation:{order.pk}",
        recipients=recipients,
        context=_confirmation_context(order=order, lines=lines),
        preferences=preferences,
        pks=pks,
    )


def _confirmation_context(*, order, lines, change=None) -> dict:
    context = {
        "account_name": order.account.name,
        "order_number": order.number,
        "po_number": order.po_number,
        "placed_by": order.placed_by.get_full_name() if order.placed_by else "",
        "lines": [
            {
                "line_id": line.pk,
                "sku": line.sku.code,
                "description": f"{line.sku.style.name} {line.sku.color} {line.sku.size_label} "
                f"{line.sku.get_width_display()}",
                "quantity": line.quantity,
                "allocated": line.allocated,
                "backordered": line.backordered,
                "cancelled": line.cancelled,
                "cancel_reason": line.cancel_reason,
                "promised_date": _iso(line.promised_date),
            }
            for line in lines
        ],
        "subtotal": str(order.subtotal),
        "freight": str(order.freight),
        "total": str(order.total),
        "order_url": settings.SITE_URL + reverse("portal:order_detail", args=[order.number]),
        "credit_hold": [
            {"reason": reason["reason"], "release": reason["release"]}
            for reason in (order.credit_hold_reasons if order.on_credit_hold else [])
        ],
    }
    if change is not None:
        context["change"] = {"added": change.added, "reduced": change.reduced}
    return context


def order_confirmation_complete(context: dict) -> dict:
    """A stored confirmation with each line's expected date and what it rests on (from
    the ETA table, through its pegs, as of rendering) and picture: read by the delivering
    worker, not in the order's transaction."""
    ids = [line["line_id"] for line in context.get("lines", []) if line.get("line_id")]
    if not ids:
        return context
    placed = {line.pk: line for line in OrderLine.objects.filter(pk__in=ids).select_related("sku")}
    # Only backordered pairs wait for a run (invariant: a line's pegs add up to them).
    promises = line_promises(lines=[line for line in placed.values() if line.backordered])
    pictures = pictures_by_style(style_ids={line.sku.style_id for line in placed.values()})
    completed = []
    for entry in context["lines"]:
        line = placed.get(entry.get("line_id"))
        if line is not None:
            promise = promises.get(line.pk)
            entry = {
                **entry,
                "expected_date": _iso(promise.date) if promise else None,
                "expected_basis": promise.basis if promise else "",
                **_picture(pictures.get(line.sku.style_id), line.sku.color),
            }
        completed.append(entry)
    return {**context, "lines": completed}


def orders_page_url() -> str:
    return settings.SITE_URL + reverse("portal:backorders")


def line_row(line, quantity: int, **extra) -> dict:
    """What a backorder message says about a line."""
    sku = line.sku
    return {
        "order_number": line.order.number,
        "po_number": line.order.po_number,
        "sku": sku.code,
        "description": f"{sku.style.name} {sku.color} {sku.size_label} {sku.get_width_display()}",
        "quantity": quantity,
        **extra,
    }


def backorders_filled_enqueue(*, lines, filled, key: str, ship_date, run_reference="") -> None:
    """Tell each account whose backorders pairs just filled (the ledger's fair fill):
    one message per account per event, keyed f"{key}:{account id}". `run_reference`
    names the run that arrived; without it the pairs came free in the warehouse."""
    by_account = defaultdict(list)
    filled_lines = sorted(
        (line for line in lines if filled.get(line.pk)),
        key=lambda line: (line.order.number or "", line.pk),
    )
    for line in filled_lines:
        by_account[line.order.account_id].append(line)
    if not by_account:
        return
    recipients = defaultdict(list)
    for membership in Membership.objects.filter(
        account_id__in=set(by_account), user__is_active=True
    ).select_related("user"):
        recipients[membership.account_id].append(membership.user)
    for account_id, account_lines in by_account.items():
        message_enqueue(
            kind=MessageKind.BACKORDER_FILLED,
            key=f"{key}:{account_id}",
            recipients=recipients.get(account_id, []),
            context={
                "account_name": account_lines[0].order.account.name,
                "run_reference": run_reference,
                "ship_date": _iso(ship_date),
                "lines": [line_row(line, filled[line.pk]) for line in account_lines],
                "orders_url": orders_page_url(),
            },
        )


def credit_released_enqueue(*, order) -> None:
    """Tell the order's buyers it is off credit hold and will ship, in the release's
    transaction. Keyed on the hold, so a retried release sends nothing twice and a
    later hold (after an edit) gets its own message."""
    message_enqueue(
        kind=MessageKind.CREDIT_RELEASED,
        key=f"credit-released:{order.pk}:{order.credit_held_at.isoformat()}",
        recipients=account_recipients(account=order.account, extra=[order.placed_by]),
        context={
            "account_name": order.account.name,
            "order_number": order.number,
            "po_number": order.po_number,
            "total": str(order.total),
            "order_url": settings.SITE_URL + reverse("portal:order_detail", args=[order.number]),
        },
    )
