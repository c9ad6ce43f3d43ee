"""Back-in-stock alerts: a buyer asks to be told when a size with nothing available is
available again; they are told once (immediately or in their digest, by their
preference for this kind of message) when its ATS returns, and the alert ends.

ATS is read through the inventory selectors only: nothing here writes stock. Receipts
and stock counts kick a check of their SKUs after they commit, and a periodic job checks
every waiting alert (ATS also returns when orders are cancelled)."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from inventory.models import SKU
from inventory.selectors import ats_by_sku
from notifications.kinds import MessageKind
from notifications.services import OutgoingMessage, messages_enqueue
from orders import locks
from orders.exceptions import OrderInputError, OrderNotAllowed
from orders.models import StockAlert, StockAlertStatus
from orders.selectors import accounts_visible_to

BATCH = 500


def _description(sku) -> str:
    return f"{sku.style.name}, {sku.color}, {sku.size_label} {sku.get_width_display()}"


def stock_alert_request(*, user, account, sku_code) -> StockAlert:
    """Ask to be told when this SKU is available again, for this account. Asking again
    while an alert waits returns that alert."""
    if account is None or not accounts_visible_to(user=user).filter(pk=account.pk).exists():
        raise OrderNotAllowed("You cannot ask for alerts on this account.")
    code = str(sku_code or "").strip()[:40]
    sku = SKU.objects.select_related("style").filter(code__iexact=code, active=True).first()
    if sku is None:
        raise OrderInputError({"sku": [f"No SKU {code or '(blank)'} is on sale."]})
    if ats_by_sku(sku_ids=[sku.pk])[sku.pk] > 0:
        raise OrderInputError({"sku": [f"{sku.code} is available now: order it instead."]})
    return _alert_write(user=user, account=account, sku=sku)


@transaction.atomic(durable=True)
def _alert_write(*, user, account, sku) -> StockAlert:
    # The partial unique constraint keeps one waiting alert per user, account and SKU.
    StockAlert.objects.bulk_create(
        [StockAlert(user=user, account=account, sku=sku)], ignore_conflicts=True
    )
    return StockAlert.objects.get(
        user=user, account=account, sku=sku, status=StockAlertStatus.WAITING
    )


@transaction.atomic(durable=True)
def stock_alert_cancel(*, user, alert_id) -> bool:
    """End one of the user's waiting alerts; False if there is none with that id."""
    return bool(
        StockAlert.objects.filter(pk=alert_id, user=user, status=StockAlertStatus.WAITING).update(
            status=StockAlertStatus.CANCELLED, ended_at=timezone.now()
        )
    )


@dataclass(frozen=True)
class AlertCheck:
    told: int
    last_id: int  # where the next batch starts
    more: bool


@transaction.atomic(durable=True)
def stock_alerts_notify(*, sku_ids=None, after_id: int = 0, limit: int = BATCH) -> AlertCheck:
    """Tell every waiting alert (of these SKUs, or all; a batch of them after `after_id`)
    whose SKU has ATS again, once, and end it. Alerts are locked with skip_locked, so
    runs side by side share the work and never tell one twice; the message is keyed by
    the alert too."""
    alerts = locks.waiting_stock_alerts_lock(sku_ids=sku_ids, after_id=after_id, limit=limit)
    if not alerts:
        return AlertCheck(told=0, last_id=after_id, more=False)
    ats = ats_by_sku(sku_ids={alert.sku_id for alert in alerts})
    ready = [alert for alert in alerts if ats[alert.sku_id] > 0]
    site = settings.SITE_URL.rstrip("/")
    messages_enqueue(
        kind=MessageKind.BACK_IN_STOCK,
        messages=[
            OutgoingMessage(
                key=f"stock-alert:{alert.pk}",
                recipients=[alert.user] if alert.user.is_active else [],
                context={
                    "account_name": alert.account.name,
                    "sku": alert.sku.code,
                    "description": _description(alert.sku),
                    "ats": ats[alert.sku_id],
                    "style_url": site
                    + reverse("portal:style_detail", args=[alert.sku.style.number]),
                },
            )
            for alert in ready
        ],
    )
    StockAlert.objects.filter(pk__in=[alert.pk for alert in ready]).update(
        status=StockAlertStatus.SENT, ended_at=timezone.now()
    )
    return AlertCheck(told=len(ready), last_id=alerts[-1].pk, more=len(alerts) == limit)


def stock_alerts_kick(*, sku_ids) -> None:
    """After a commit that may have made pairs available (a receipt, a stock count):
    check those SKUs' alerts now rather than at the next periodic run. Never raises;
    if the broker is down the periodic run does it."""
    from notifications.services import task_publish
    from orders.tasks import stock_alerts_notify_task

    sku_ids = sorted({int(sku_id) for sku_id in sku_ids})
    if (
        sku_ids
        and StockAlert.objects.filter(sku_id__in=sku_ids, status=StockAlertStatus.WAITING).exists()
    ):
        task_publish(stock_alerts_notify_task, [sku_ids])
