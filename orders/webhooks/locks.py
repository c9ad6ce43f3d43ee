"""The only place deliveries are claimed.

A worker claims a delivery with one conditional UPDATE (pending/retry and due ->
sending, or a sending row whose lease expired), committed before the POST: of two
workers on one row exactly one gets it, and no transaction stays open over the network.
A worker that dies between the receiver's 2xx and the mark leaves the row to be sent
again when its lease expires: receivers dedup on the event id."""

from datetime import datetime, timedelta

from notifications.locks import outbox_row_claim
from orders.webhooks.models import Delivery, DeliveryStatus

# Must exceed webhook_deliver_task's hard time limit (see tasks.py).
LEASE = timedelta(minutes=3)


def delivery_claim(*, delivery_id: int, now: datetime) -> str | None:
    """Claim one delivery; returns the claim token, or None if it is not claimable."""
    return outbox_row_claim(
        rows=Delivery.objects.filter(pk=delivery_id),
        now=now,
        lease=LEASE,
        waiting=[DeliveryStatus.PENDING, DeliveryStatus.RETRY],
        sending=DeliveryStatus.SENDING,
    )
