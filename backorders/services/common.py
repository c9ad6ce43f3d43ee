"""Helpers shared by the backorder services. They run inside the caller's transaction,
on rows the caller has locked."""

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from backorders.models import AutoCancellation
from inventory import services as inventory_services
from inventory.models import SKU, Style
from inventory.selectors import ats_by_sku, ship_date_from_stock
from orders.models import BackorderPeg, Membership, OrderLine
from orders.services.ordering import orders_totals_refresh

MAX_ALTERNATIVES = 3


def iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def sku_description(sku: SKU) -> str:
    return f"{sku.style.name} {sku.color} {sku.size_label} {sku.get_width_display()}"


def orders_url() -> str:
    return settings.SITE_URL + reverse("portal:backorders")


def recipients_by_account(*, account_ids) -> dict[int, list]:
    """orders.notices.account_recipients for many accounts in one query: everyone at
    each account who is active."""
    result = defaultdict(list)
    memberships = (
        Membership.objects.filter(account_id__in=set(account_ids), user__is_active=True)
        .select_related("user")
        .order_by("account_id", "user_id")
    )
    for membership in memberships:
        result[membership.account_id].append(membership.user)
    return result


def message_line(line: OrderLine, quantity: int, **extra) -> dict:
    return {
        "order_number": line.order.number,
        "po_number": line.order.po_number,
        "sku": line.sku.code,
        "description": sku_description(line.sku),
        "quantity": quantity,
        **extra,
    }


# --- Cancelling backordered pairs, set-based ----------------------------------------


@transaction.atomic(savepoint=False)
def backorders_cancel(
    *,
    lines: list[OrderLine],
    reason: str,
    source: str,
    today: dt.date,
    notice_key: str = "",
    record: bool = True,
) -> list[AutoCancellation]:
    """Cancel all backordered pairs of these locked lines at once: their pegs go, the
    inbound promises are released, the lines' splits move to cancelled, and each
    cancellation by the system is recorded (to be told, unless `notice_key` says it
    already was; `record=False` for the retailer's own choice).
    A fixed number of queries per call, whatever the number of lines."""
    lines = [line for line in lines if line.backordered > 0]
    if not lines:
        return []
    line_ids = [line.pk for line in lines]
    released = (
        BackorderPeg.objects.filter(line_id__in=line_ids)
        .values("inbound_line_id")
        .annotate(total=Sum("quantity"))
        .order_by("inbound_line_id")
    )
    inventory_services.inbound_unpromise_many(
        quantities={row["inbound_line_id"]: row["total"] for row in released}
    )
    BackorderPeg.objects.filter(line_id__in=line_ids).delete()
    reason = reason[:200]
    OrderLine.objects.filter(pk__in=line_ids, backordered__gt=0).update(
        cancelled=F("cancelled") + F("backordered"),
        backordered=0,
        window_end=None,
        cancel_reason=reason,
    )
    records = (
        [
            AutoCancellation(
                line=line,
                account_id=line.order.account_id,
                quantity=line.backordered,
                source=source,
                reason=reason,
                on_date=today,
                notice_key=notice_key,
            )
            for line in lines
        ]
        if record
        else []
    )
    for line in lines:
        line.cancelled += line.backordered
        line.backordered = 0
        line.window_end = None
        line.cancel_reason = reason
    AutoCancellation.objects.bulk_create(records)
    orders_totals_refresh(order_ids={line.order_id for line in lines})
    return records


# --- Alternatives -------------------------------------------------------------------


def alternative_skus(
    *, lines: list[OrderLine], quantities: dict[int, int] | None = None, need_ats: bool = True
):
    """What each line could switch to: the same style in another colour, or the style's
    configured alternatives, in the same size and width, active, with ATS now covering the
    quantity (the line's backordered pairs unless given). Same style first, then most ATS.
    A fixed number of queries for any number of lines. need_ats=False: every candidate,
    whatever its stock (the caller checks ATS under its own lock)."""
    if not lines:
        return {}
    quantities = quantities or {line.pk: line.backordered for line in lines}
    style_ids = {line.sku.style_id for line in lines}
    alternatives = defaultdict(set)
    for style_id, alt_id in Style.alternatives.through.objects.filter(
        from_style_id__in=style_ids
    ).values_list("from_style_id", "to_style_id"):
        alternatives[style_id].add(alt_id)
    candidate_styles = style_ids | {alt for alts in alternatives.values() for alt in alts}
    candidates = list(
        SKU.objects.active()
        .filter(
            style_id__in=candidate_styles,
            size__in={line.sku.size for line in lines},
            width__in={line.sku.width for line in lines},
        )
        .select_related("style")
    )
    ats = ats_by_sku(sku_ids=[sku.pk for sku in candidates])
    result = {}
    for line in lines:
        wanted = quantities[line.pk]
        own = line.sku
        matches = [
            sku
            for sku in candidates
            if sku.size == own.size
            and sku.width == own.width
            and sku.pk != own.pk
            and (
                (sku.style_id == own.style_id and sku.color != own.color)
                or sku.style_id in alternatives[own.style_id]
            )
            and (not need_ats or ats[sku.pk] >= wanted > 0)
        ]
        matches.sort(key=lambda sku: (sku.style_id != own.style_id, -ats[sku.pk], sku.code))
        result[line.pk] = matches[:MAX_ALTERNATIVES]
    return result


def alternatives_offer(*, skus, terms, today: dt.date | None = None) -> list[dict]:
    ships_by = ship_date_from_stock(terms=terms, today=today or timezone.localdate())
    return [
        {"sku": sku.code, "description": sku_description(sku), "ships_by": ships_by.isoformat()}
        for sku in skus
    ]
