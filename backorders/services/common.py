"""Helpers shared by the backorder services. They run inside the caller's transaction,
on rows the caller has locked."""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from backorders.locks import PastWindowLine
from backorders.models import AutoCancellation
from inventory.models import SKU, Style, Width
from inventory.selectors import ats_by_sku, ship_date_from_stock
from inventory.sql import values_table
from orders import ledger
from orders.models import Membership, MembershipRole, OrderLine
from orders.services.ordering import orders_totals_refresh
from orders.webhooks.services import orders_changed_enqueue

MAX_ALTERNATIVES = 3
# What get_width_display() answers, without rebuilding the choices on every call
# (25 us each; messages describe thousands of SKUs).
WIDTH_LABELS = dict(Width.choices)


def iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def sku_description(sku: SKU) -> str:
    return description_of(
        style_name=sku.style.name, color=sku.color, size=sku.size, width=sku.width
    )


def description_of(*, style_name: str, color: str, size, width: int) -> str:
    """A SKU as messages and pages name it, from its fields ("Walker Black 8.5 M")."""
    return f"{style_name} {color} {size.normalize():f} {WIDTH_LABELS.get(width, width)}"


def orders_url() -> str:
    return settings.SITE_URL + reverse("portal:backorders")


def recipients_by_account(*, account_ids) -> dict[int, list]:
    """orders.notices.account_recipients for many accounts in one query: everyone at
    each account who is active."""
    result = defaultdict(list)
    for membership in _memberships(account_ids=account_ids):
        result[membership.account_id].append(membership.user)
    return result


def recipients_by_role(*, account_ids) -> dict[int, tuple[list, list]]:
    """Everyone active at each account, split into (buyers, who may decide; the others,
    who are told), in one query."""
    result = defaultdict(lambda: ([], []))
    for membership in _memberships(account_ids=account_ids):
        deciders, told = result[membership.account_id]
        (deciders if membership.role == MembershipRole.BUYER else told).append(membership.user)
    return result


def _memberships(*, account_ids):
    return (
        Membership.objects.filter(account_id__in=set(account_ids), user__is_active=True)
        .select_related("user")
        .order_by("account_id", "user_id")
    )


class MessageLine(NamedTuple):
    """What a message says about a line; built by message_line from a line, or from
    values read without building the line's order and SKU."""

    order_number: str
    po_number: str
    sku: str
    description: str


def message_line(line: OrderLine | MessageLine, quantity: int, **extra) -> dict:
    if isinstance(line, OrderLine):
        line = MessageLine(
            line.order.number, line.order.po_number, line.sku.code, sku_description(line.sku)
        )
    return {**line._asdict(), "quantity": quantity, **extra}


# --- Cancelling backordered pairs, set-based ----------------------------------------


class Cancellation(NamedTuple):
    """An AutoCancellation row as backorders_cancel wrote it."""

    pk: int
    line_id: int
    account_id: int
    quantity: int
    reason: str


def _cancellations_record(
    *, quantities, accounts, reasons, source, today, notice_key
) -> list[Cancellation]:
    """Insert one AutoCancellation per line (quantities: {line id: pairs}) in one
    statement: bulk_create spent longer preparing each row's eight fields than the
    database took to insert them."""
    line_ids = list(quantities)
    cancelled, params = values_table(
        "cancelled",
        ["line_id", "account_id", "quantity", "reason"],
        [
            (line_id, accounts[line_id], quantities[line_id], reasons[line_id])
            for line_id in line_ids
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"{cancelled}INSERT INTO {AutoCancellation._meta.db_table} "
            "(line_id, account_id, quantity, reason, source, on_date, notice_key, created_at) "
            "SELECT line_id, account_id, quantity, reason, %s, %s, %s, %s FROM cancelled "
            "RETURNING id, line_id",
            [*params, source, today, notice_key, timezone.now()],
        )
        pks = {line_id: pk for pk, line_id in cursor.fetchall()}
    return [
        Cancellation(
            pks[line_id], line_id, accounts[line_id], quantities[line_id], reasons[line_id]
        )
        for line_id in line_ids
    ]


@transaction.atomic(savepoint=False)
def backorders_cancel(
    *,
    lines: list[OrderLine | PastWindowLine],
    reason: str | Mapping[int, str],
    source: str,
    today: dt.date,
    notice_key: str = "",
    record: bool = True,
    accounts: Mapping[int, int] | None = None,
) -> list[Cancellation]:
    """Cancel all backordered pairs of these locked lines at once: their pegs go, the
    inbound promises are released, the lines' splits move to cancelled, and each
    cancellation by the system is recorded (to be told, unless `notice_key` says it
    already was; `record=False` for the retailer's own choice). `reason` is one for
    every line, or one per line id; `accounts` the lines' account ids by line id when
    they were read as rows (the sweep), else their orders give them.
    A fixed number of queries per call, whatever the number of lines."""
    lines = [line for line in lines if line.backordered > 0]
    if not lines:
        return []
    reasons = {
        line.pk: (reason if isinstance(reason, str) else reason[line.pk])[:200] for line in lines
    }
    quantities = ledger.backorders_cancel(lines=lines, reasons=reasons)
    records = (
        _cancellations_record(
            quantities=quantities,
            accounts=accounts or {line.pk: line.order.account_id for line in lines},
            reasons=reasons,
            source=source,
            today=today,
            notice_key=notice_key,
        )
        if record
        else []
    )
    orders_totals_refresh(order_ids={line.order_id for line in lines})
    if record:  # the retailer's own choice is told by the decision (decisions._decide)
        orders_changed_enqueue(order_ids={line.order_id for line in lines}, cause=source)
    return records


def cancellations_mark_told(*, record_ids, key_prefix: str) -> None:
    """Stamp auto-cancellations as told, each with its account's message key
    (f"{key_prefix}{account_id}"), in one statement."""
    record_ids = list(record_ids)
    if not record_ids:
        return
    if connection.vendor != "postgresql":
        AutoCancellation.objects.filter(pk__in=record_ids).update(
            notice_key=Concat(Value(key_prefix), Cast("account_id", CharField()))
        )
        return
    # One array parameter: the daily message stamps a day's cancellations at once (145,000
    # at 100x), and an IN list of that many took longer to plan than to apply.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AutoCancellation._meta.db_table} SET notice_key = %s || account_id "
            "WHERE id = ANY(%s)",
            [key_prefix, record_ids],
        )


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
