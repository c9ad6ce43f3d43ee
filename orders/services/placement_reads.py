"""What placing an order reads before any lock, in one statement: the terms in force
with what placing needs of the account, its members, the SKUs asked for and their stock
levels. Each read is compiled once per connection (inventory.compiled): the statements are
the same for every order, and building them with the ORM cost more than running them.
Stock read here, without a lock, only plans an order it covers in full: the allocation
locks the levels and checks each still has its pairs (ordering.lines_plan)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    CharField,
    DateField,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Subquery,
)
from django.utils import timezone

from inventory.compiled import (
    CompiledByCount,
    CompiledRead,
    model_columns,
    models_built,
    rows_together,
    slot,
)
from inventory.models import SKU, PriceList, StockLevel
from notifications.kinds import MessageKind
from notifications.selectors import preference_columns, preference_from
from orders import rules
from orders.models import CommercialTerms, Membership, ShipTo
from orders.pricing import account_price_lists
from orders.webhooks.selectors import endpoints_hearing


@dataclass(frozen=True)
class AccountFacts:
    members: list  # the account's memberships, with their users
    preferences: dict  # member's user id -> their confirmation preference (None: default)
    terms: CommercialTerms  # the version in force
    default_ship_to_id: int | None
    has_ordered: bool  # a real (not cancelled) order before: this one is a fill-in
    webhooks_heard: bool  # a live endpoint hears this account's events
    price_list: PriceList | None  # the list the account buys on today (its pk and discount)


@dataclass(frozen=True)
class PlacementReads:
    facts: AccountFacts
    skus: list  # the SKUs found of the codes asked for, with their styles
    levels: list  # their stock levels, with their warehouses (no lock)


FACTS = ["default_ship_to_id", "has_ordered", "webhooks_heard", "price_list_id", "percent_off"]


def _terms_and_facts():
    account = slot("account_id", IntegerField())
    price_lists = account_price_lists(account=account, on=slot("today", DateField()))
    facts = {
        "default_ship_to_id": Subquery(
            ShipTo.objects.filter(account=account, is_default=True).values("pk")[:1]
        ),
        "has_ordered": Exists(rules.placed_orders(account=account)),
        "webhooks_heard": Exists(endpoints_hearing(account_id=account)),
        "price_list_id": Subquery(price_lists.values("pk")[:1]),
        "percent_off": Subquery(price_lists.values("percent_off")[:1]),
    }
    return (
        CommercialTerms.objects.in_force(at=slot("now", DateTimeField()))
        .annotate(**facts)
        .values_list(*model_columns(CommercialTerms), *FACTS)[:1]
    )


PREFERENCE = ["preference_enabled", "preference_mode"]


def _members():
    return (
        Membership.objects.filter(account=slot("account_id", IntegerField()))
        .annotate(**preference_columns(kind=MessageKind.ORDER_CONFIRMATION, user=OuterRef("user")))
        .values_list(*model_columns(Membership, "user"), *PREFERENCE)
    )


TERMS_AND_FACTS, MEMBERS = CompiledRead(_terms_and_facts), CompiledRead(_members)
SKUS_CODED = CompiledByCount(
    lambda codes: SKU.objects.filter(code__in=codes).values_list(*model_columns(SKU, "style")),
    CharField(),
)
LEVELS_CODED = CompiledByCount(
    lambda codes: StockLevel.objects.filter(sku__code__in=codes).values_list(
        *model_columns(StockLevel, "warehouse")
    ),
    CharField(),
)


def placement_reads(*, account, today: dt.date, codes: list[str]) -> PlacementReads:
    """The terms in force with the account's default ship-to, whether it has ordered,
    whether any webhook endpoint listens and the price list it buys on; its members (who
    may order, who is told, and how each wants the confirmation); the SKUs of ``codes``
    and their stock levels. An endpoint subscribed after this read hears from the next
    order on."""
    reads = [
        TERMS_AND_FACTS.bound(account_id=account.pk, today=today, now=timezone.now()),
        MEMBERS.bound(account_id=account.pk),
    ]
    if codes:
        reads += [SKUS_CODED.bound(codes), LEVELS_CODED.bound(codes)]
    terms_rows, member_rows, *stock_rows = rows_together(*reads)
    sku_rows, level_rows = stock_rows or ([], [])
    if not terms_rows:
        raise CommercialTerms.DoesNotExist("No commercial terms are in force.")
    (terms_row,) = terms_rows
    default_ship_to_id, has_ordered, webhooks_heard, price_list_id, percent_off = terms_row[
        -len(FACTS) :
    ]
    members = models_built(Membership, member_rows, "user")
    for member, row in zip(members, member_rows, strict=True):
        member.preference_enabled, member.preference_mode = row[-len(PREFERENCE) :]
    facts = AccountFacts(
        members,
        {member.user_id: preference_from(member) for member in members},
        models_built(CommercialTerms, [terms_row])[0],
        default_ship_to_id,
        bool(has_ordered),
        bool(webhooks_heard),
        PriceList(pk=price_list_id, percent_off=percent_off) if price_list_id else None,
    )
    return PlacementReads(
        facts,
        models_built(SKU, sku_rows, "style"),
        models_built(StockLevel, level_rows, "warehouse"),
    )
