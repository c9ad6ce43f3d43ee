"""What an ETA change tells the stores: one message per person per event. Each person of
an affected account gets exactly one message listing every line of theirs the change
touches. A buyer of an account with lines pushed past their window gets the decision
request (every such line with its options, one signed page to answer them all, and the
lines that merely moved); everyone else is told (eta_moved), viewers never asked.
Both kinds share the event's key, so a re-run sends nothing twice."""

from collections import defaultdict

from backorders.services.common import iso, message_line, orders_url, recipients_by_role
from backorders.services.links import decisions_urls
from notifications.kinds import MessageKind
from notifications.services import OutgoingMessage, messages_enqueue
from orders.webhooks.events import WebhookEvent
from orders.webhooks.services import Event, webhook_events_enqueue


def eta_change_notify(*, change, told, asked, old_dates, new_dates, bases) -> int:
    """Tell each account's people about `change`, inside the transaction that recorded
    it. `told`: the locked lines still inside their window; `asked`: the decision
    requests just made (their lines locked); `bases`: what each line's new date rests
    on. Returns the number of accounts told."""
    moved = defaultdict(list)
    for line in sorted(told, key=_line_order):
        moved[line.order.account_id].append(
            message_line(
                line,
                line.backordered,
                old_date=iso(old_dates[line.pk]),
                new_date=iso(new_dates[line.pk]),
                new_basis=bases.get(line.pk, ""),
            )
        )
    questions = defaultdict(list)
    for request in sorted(asked, key=lambda request: _line_order(request.line)):
        questions[request.line.order.account_id].append(request)
    accounts = {
        line.order.account_id: line.order.account
        for line in [*told, *(request.line for request in asked)]
    }
    people = recipients_by_role(account_ids=accounts)
    base = {
        "run_reference": change.run.reference,
        "old_eta": iso(change.old_eta),
        "new_eta": iso(change.new_eta),
        "reason": change.reason,
    }
    url = orders_url()
    told_messages, decision_messages = [], []
    for account_id, account in accounts.items():
        key = f"eta:{change.pk}:{account_id}"
        deciders, others = people[account_id]
        context = {**base, "account_name": account.name, "orders_url": url}
        requests = questions.get(account_id, [])
        if not requests:
            told_messages.append(
                OutgoingMessage(key, [*deciders, *others], {**context, "lines": moved[account_id]})
            )
            continue
        lines = [_asked_line(request, basis=bases.get(request.line_id, "")) for request in requests]
        told_messages.append(
            OutgoingMessage(
                key, others, {**context, "lines": moved[account_id], "asked_lines": lines}
            )
        )
        decision = {
            **context,
            "lines": lines,
            "moved_lines": moved[account_id],
            "deadline": iso(min(request.deadline for request in requests)),
            "default_action": account.decision_default,
        }
        decision_messages.extend(
            OutgoingMessage(
                key,
                [user],
                {
                    **decision,
                    **decisions_urls(eta_change_id=change.pk, account_id=account_id, user=user),
                },
            )
            for user in deciders
        )
    # The change was recorded in this transaction: no message can carry its key yet.
    messages_enqueue(kind=MessageKind.ETA_MOVED, messages=told_messages, new_event=True)
    messages_enqueue(kind=MessageKind.DECISION_REQUEST, messages=decision_messages, new_event=True)
    _eta_change_webhooks(
        change=change, accounts=accounts, moved=moved, questions=questions, bases=bases
    )
    return len(accounts)


def _eta_change_webhooks(*, change, accounts, moved, questions, bases):
    """One backorder.eta_changed per account with lines whose date moved inside their
    window, one backorder.decision_requested per account with lines asked about."""
    base = {
        "run": change.run.reference,
        "old_eta": iso(change.old_eta),
        "new_eta": iso(change.new_eta),
        "reason": change.reason,
    }
    events = []
    for account_id, account in accounts.items():
        if moved.get(account_id):
            events.append(
                Event(
                    WebhookEvent.BACKORDER_ETA_CHANGED,
                    f"backorder.eta_changed:{change.pk}:{account_id}",
                    account,
                    {**base, "lines": moved[account_id]},
                )
            )
        if questions.get(account_id):
            lines = [
                {
                    "line": request.line_id,
                    **_asked_line(request, basis=bases.get(request.line_id, "")),
                }
                for request in questions[account_id]
            ]
            events.append(
                Event(
                    WebhookEvent.BACKORDER_DECISION_REQUESTED,
                    f"backorder.decision_requested:{change.pk}:{account_id}",
                    account,
                    {**base, "default_action": account.decision_default, "lines": lines},
                )
            )
    webhook_events_enqueue(events=events)


def _line_order(line):
    return (line.order.number or "", line.pk)


def _asked_line(request, *, basis) -> dict:
    return message_line(
        request.line,
        request.quantity,
        old_date=iso(request.old_date),
        new_date=iso(request.new_date),
        new_basis=basis,
        deadline=iso(request.deadline),
        alternatives=request.alternatives,
    )
