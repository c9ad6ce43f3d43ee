"""The only place orders rows are locked.

Lock order, everywhere in the project: Order -> OrderLine -> StockLevel -> InboundRun ->
InboundLine, rows of one table by pk. Following it, no two transactions wait in a cycle.
The run-ETA advisory locks (inventory.locks.run_etas_share_lock, run_eta_lock) come
before all of them."""

import hashlib
from dataclasses import dataclass

from django.db import connection
from django.db.models import CharField, IntegerField, Q
from django.db.models.expressions import RawSQL

from inventory.compiled import CompiledRead, slot, statement_run
from inventory.sql import ids_in
from notifications.models import Message
from orders.models import Order, OrderLine


def order_lock(*, order_id, related=()):
    """Lock an order (only its row), reading the `related` rows it points to with it."""
    queryset = Order.objects.select_for_update(of=("self",)).select_related(*related)
    return queryset.filter(pk=order_id).first()


def order_lines_lock(*, line_ids=None, order_id=None):
    queryset = OrderLine.objects.select_for_update(of=("self",)).select_related("sku__style")
    if order_id is not None:
        queryset = queryset.filter(order_id=order_id)
    if line_ids is not None:
        queryset = queryset.filter(pk__in=line_ids)
    return list(queryset.order_by("pk"))


@dataclass(frozen=True)
class PlacementStart:
    key_taken: bool  # False: another request holds this idempotency key
    existing_id: int | None  # the order an earlier request placed with the key
    order_id: int | None  # the new order's pk, drawn from its sequence (PostgreSQL)
    line_ids: tuple = ()  # as many pks for its lines, drawn from theirs
    message_ids: tuple = ()  # and for its confirmation's outbox rows


def placement_start(
    *, account_id, key, credit_lock: bool, lines: int = 0, messages: int = 0
) -> PlacementStart:
    """A placement's first statement, one round trip: the transaction-scoped lock on
    (account, key), the order already placed with the key, the new order's pk (so its
    number is written with it) and, with ``credit_lock``, the account's credit lock
    (account_credit_lock: first in the lock order), taken only when the key is this
    request's and names no earlier order (a retry or a key in flight waits on nothing).
    The lookup reads the statement's snapshot, taken before the locks: an order
    committed in between is caught by the unique key constraint, which order_place
    answers with that order; whatever the credit check reads comes in later statements,
    after the lock. With ``lines`` and ``messages``, that many pks for the order's lines
    and its confirmation's outbox rows too (so its rows can be written in one round
    trip: ledger.lines_place). SQLite (it serialises writers already): the lookup alone,
    no pk."""
    if connection.vendor != "postgresql":
        found = (
            Order.objects.filter(account_id=account_id, idempotency_key=key).values("pk").first()
            if key
            else None
        )
        return PlacementStart(True, found["pk"] if found else None, None)
    pks = (
        f"nextval({_sequence(Order)}), "
        f"ARRAY(SELECT nextval({_sequence(OrderLine)}) FROM generate_series(1, %s)), "
        f"ARRAY(SELECT nextval({_sequence(Message)}) FROM generate_series(1, %s))"
    )
    pk_params = [lines, messages]
    credit = "pg_advisory_xact_lock(%s)::text" if credit_lock else "NULL"
    credit_params = [_credit_lock_id(account_id)] if credit_lock else []
    # Prepared (statement_run): planning these few fixed shapes cost more than running them.
    if not key:
        with connection.cursor() as cursor:
            statement_run(cursor, f"SELECT {pks}, {credit}", [*pk_params, *credit_params])
            order_id, line_ids, message_ids, _ = cursor.fetchone()
            return PlacementStart(True, None, order_id, tuple(line_ids), tuple(message_ids))
    lookup, params = _KEY_LOOKUP.sql(account_id=account_id, key=key)
    # OFFSET 0 keeps the inner select (and its key lock) evaluated before the CASE.
    with connection.cursor() as cursor:
        statement_run(
            cursor,
            f"SELECT taken, existing, {pks}, "
            f"CASE WHEN taken AND existing IS NULL THEN {credit} END FROM "
            f"(SELECT pg_try_advisory_xact_lock(%s) AS taken, ({lookup}) AS existing OFFSET 0) "
            "AS start",
            [*pk_params, *credit_params, _key_lock_id(account_id, key), *params],
        )
        taken, existing_id, order_id, line_ids, message_ids, _ = cursor.fetchone()
        return PlacementStart(taken, existing_id, order_id, tuple(line_ids), tuple(message_ids))


# The order already placed with a key: the same statement for every placement.
_KEY_LOOKUP = CompiledRead(
    lambda: (
        Order.objects.filter(
            account_id=slot("account_id", IntegerField()), idempotency_key=slot("key", CharField())
        )
        .values("pk")
        .order_by()[:1]
    )
)


def _sequence(model) -> str:
    return f"pg_get_serial_sequence('{model._meta.db_table}', 'id')"


def idempotency_key_try_lock(*, account_id, key) -> bool:
    """Take a transaction-scoped lock on (account, key); False if another request holds it.
    SQLite serialises writers already, so there it is always taken."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_key_lock_id(account_id, key)])
        return cursor.fetchone()[0]


def _key_lock_id(account_id, key) -> int:
    digest = hashlib.blake2b(f"{account_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def account_credit_lock(*, account_id) -> None:
    """Serialise the credit checks of one account's placements and edits for the rest
    of the transaction, so two orders cannot both fit under its limit. An advisory lock,
    taken first (before the run-ETA locks): nothing holds a row lock while waiting on it.
    SQLite serialises writers already."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_credit_lock_id(account_id)])


def _credit_lock_id(account_id) -> int:
    digest = hashlib.blake2b(f"credit:{account_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def orders_on_credit_hold_lock(*, account_id) -> list[Order]:
    """Lock the account's orders on credit hold (a payment may release them), by pk."""
    return list(
        Order.objects.on_credit_hold()
        .filter(account_id=account_id)
        .select_for_update(of=("self",))
        .select_related("account")
        .order_by("pk")
    )


def document_numbers_take(*, names) -> dict[str, int]:
    """The next number of each named document counter (created on first use), in one
    statement; each counter row stays locked for the rest of the issuing transaction,
    taken in name order. Taken last, after every other lock, so issuers queue only on
    the number. A rollback undoes the increment: numbers have no gaps."""
    from orders.models import DocumentSequence

    names = sorted(set(names))
    table = connection.ops.quote_name(DocumentSequence._meta.db_table)
    rows = ", ".join(["(%s, 1)"] * len(names))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, last_value) VALUES {rows} ON CONFLICT (name) "
            f"DO UPDATE SET last_value = {table}.last_value + 1 RETURNING name, last_value",
            names,
        )
        return dict(cursor.fetchall())


def invoice_lock(*, invoice_id):
    """Lock an invoice before moving its paid / credited amounts (after Order and its
    lines when both are taken)."""
    from orders.models import Invoice

    return Invoice.objects.select_for_update(of=("self",)).filter(pk=invoice_id).first()


def authority_lock(*, account_id, user_id):
    """Lock what a customer-service authority check counts: the account given to, then
    the staff member giving (their rows, so two requests cannot both fit the same room
    under a limit). Taken before the case and everything after it."""
    from django.contrib.auth import get_user_model

    from orders.models import Account

    Account.objects.select_for_update(of=("self",)).filter(pk=account_id).first()
    get_user_model().objects.select_for_update(of=("self",)).filter(pk=user_id).first()


def case_lock(*, case_id):
    """Lock a service case (its credit total moves only under this lock). Cases and their
    credit requests are taken before Order and everything after it."""
    from orders.models import Case

    return Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()


def return_authorization_lock(*, authorization_id):
    """Lock a return while it moves along its lifecycle (after the authority locks)."""
    from orders.models import ReturnAuthorization

    return (
        ReturnAuthorization.objects.select_for_update(of=("self",))
        .select_related("case__account", "order__terms", "account")
        .get(pk=authorization_id)
    )


def credit_approval_lock(*, approval_id):
    """Lock a credit request before deciding it (after its case)."""
    from orders.models import CreditApproval

    return CreditApproval.objects.select_for_update(of=("self",)).filter(pk=approval_id).first()


def commercial_terms_latest_lock():
    """Lock the newest commercial terms version while the next one is written; the unique
    version number is the backstop if two editors publish at the same moment."""
    from orders.models import CommercialTerms

    return CommercialTerms.objects.select_for_update().order_by("-version").first()


def ledger_lines_lock(
    *, line_ids=(), order_id=None, waiting_sku_ids=(), reach=None, related_once=False
):
    """Lock, in one statement and pk order, the lines the ledger is about to change:
    these lines (or an order's), every line still waiting for pairs of these SKUs
    (pairs freed here go to them first) and the lines `reach` selects (SQL and its
    parameters, orders.ledger.repeg_reach). One statement keeps the pk order across the
    sets, so two orders' cancellations never wait on each other in a cycle. Each line
    comes with its order (account, terms) and SKU (style): joined, or with
    `related_once` read after it and built once per distinct row (thousands of lines)."""
    condition = Q(pk__in=set(line_ids))
    if order_id is not None:
        condition |= Q(order_id=order_id)
    if waiting_sku_ids:
        condition |= Q(sku_id__in=set(waiting_sku_ids), backordered__gt=0)
    if reach is not None:
        condition |= Q(pk__in=RawSQL(*reach))
    queryset = OrderLine.objects.select_for_update(of=("self",)).filter(condition).order_by("pk")
    if related_once:
        return lines_with_related(list(queryset))
    return list(queryset.select_related("order__account", "order__terms", "sku__style"))


def lines_with_related(lines):
    """Give the lines their order (with its account and terms) and SKU (with its style),
    read unlocked, one query per table, each row built once and shared by every line that
    points at it: an ETA change over 20,000 lines builds 2,000 accounts, not 20,000."""
    from inventory.models import SKU, Style
    from orders.models import Account, CommercialTerms

    orders = related_attach(lines, "order", Order)
    related_attach(orders, "account", Account)
    related_attach(orders, "terms", CommercialTerms)
    skus = related_attach(lines, "sku", SKU)
    related_attach(skus, "style", Style)
    return lines


def related_attach(rows, field, model, *, fields=()) -> list:
    """Set each row's `field` (a foreign key to `model`) from one unlocked query, each
    related row built once however many rows point at it (only `fields` when given);
    returns the related rows."""
    if not rows:
        return []
    foreign_key = type(rows[0])._meta.get_field(field)
    attname = foreign_key.attname
    queryset = model.objects.filter(ids_in("pk", {getattr(row, attname) for row in rows}))
    related = (queryset.only(*fields) if fields else queryset).in_bulk()
    # Cached as select_related does: the rows hold the ids already (the descriptor's
    # checks cost more than the rest over 20,000 lines).
    for row in rows:
        foreign_key.set_cached_value(row, related[getattr(row, attname)])
    return list(related.values())


def waiting_stock_alerts_lock(*, sku_ids=None, after_id=0, limit):
    """Lock up to `limit` waiting back-in-stock alerts (of these SKUs, if given) after
    `after_id`, by id, skipping those another worker holds: two runs never tell one
    alert twice."""
    from orders.models import StockAlert, StockAlertStatus

    queryset = StockAlert.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        status=StockAlertStatus.WAITING, pk__gt=after_id
    )
    if sku_ids is not None:
        queryset = queryset.filter(sku_id__in=sku_ids)
    return list(queryset.select_related("user", "account", "sku__style").order_by("pk")[:limit])
