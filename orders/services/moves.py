"""Backordered lines the ledger moved to a later run without their run's ETA moving: a
cancelled run's lines re-pegged, or a younger line giving its place to an older order
(fair fill). Their new date is told as an ETA change tells it, before the date they
were given passes: recorded as told (ledger.dates_told) and one eta_moved message per
person of each account for the event, under the event's key, in the caller's
transaction. The ledger moves a line only to a run that ships inside its window and a
promise never passes the window, so no line here needs a decision."""

from collections import defaultdict

from django.db import transaction

from notifications.kinds import MessageKind
from notifications.services import OutgoingMessage, messages_enqueue
from orders import ledger
from orders.models import Membership
from orders.notices import line_row, orders_page_url
from orders.selectors import line_promises
from orders.webhooks.events import WebhookEvent
from orders.webhooks.services import Event, webhook_events_enqueue


@transaction.atomic(savepoint=False)
def moved_lines_tell(*, lines, moved, key: str, reason: str, run_reference: str = "") -> int:
    """Tell the accounts of the locked `lines` whose ids are in `moved` (the ledger's
    Filled.moved) and whose date now falls later than the one they were given; key
    f"{key}:{account id}". Returns the number of lines told."""
    candidates = [line for line in lines if line.pk in moved and line.backordered > 0]
    promises = line_promises(lines=candidates)
    later = []
    for line in candidates:
        given = line.communicated_date or line.promised_date
        promise = promises.get(line.pk)
        if promise is not None and given is not None and promise.date > given:
            later.append((line, given))
    if not later:
        return 0
    ledger.dates_told(
        lines=[line for line, _ in later],
        dates={line.pk: promises[line.pk].date for line, _ in later},
    )
    rows = defaultdict(list)
    accounts = {}
    for line, given in sorted(later, key=lambda item: (item[0].order.number or "", item[0].pk)):
        promise = promises[line.pk]
        rows[line.order.account_id].append(
            line_row(
                line,
                line.backordered,
                old_date=given.isoformat(),
                new_date=promise.date.isoformat(),
                new_basis=promise.basis,
            )
        )
        accounts[line.order.account_id] = line.order.account
    people = defaultdict(list)
    for membership in Membership.objects.filter(
        account_id__in=set(accounts), user__is_active=True
    ).select_related("user"):
        people[membership.account_id].append(membership.user)
    base = {"run_reference": run_reference, "old_eta": None, "new_eta": None, "reason": reason}
    url = orders_page_url()
    messages_enqueue(
        kind=MessageKind.ETA_MOVED,
        messages=[
            OutgoingMessage(
                f"{key}:{account_id}",
                people[account_id],
                {
                    **base,
                    "account_name": account.name,
                    "lines": rows[account_id],
                    "orders_url": url,
                },
            )
            for account_id, account in accounts.items()
        ],
    )
    webhook_events_enqueue(
        events=[
            Event(
                WebhookEvent.BACKORDER_ETA_CHANGED,
                f"backorder.eta_changed:{key}:{account_id}",
                account,
                {
                    "run": run_reference,
                    "old_eta": None,
                    "new_eta": None,
                    "reason": reason,
                    "lines": rows[account_id],
                },
            )
            for account_id, account in accounts.items()
        ]
    )
    return len(later)
