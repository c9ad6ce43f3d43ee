"""Reads of a caller's accounts and their ship-to addresses, for the API's directory
(`GET /api/v1/accounts/`, `GET /api/v1/ship-tos/`) and the account a request names."""

import functools

from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
)

from inventory.compiled import CompiledRead, model_columns, models_built, slot
from orders.models import Account, Membership, ShipTo
from orders.selectors import accounts_visible_to


class AccountNotNamed(Exception):
    """The caller belongs to several accounts and named none; the message says how."""


class AccountNotYours(Exception):
    """The account named is not one the caller may see (or does not exist)."""


def accounts_listed_for(*, user) -> QuerySet[Account]:
    """The caller's accounts by number, each with `can_order` (a buyer's membership, or
    the rep assigned to it), in one query."""
    can_order = Q(Exists(Membership.objects.buyers().filter(account=OuterRef("pk"), user=user)))
    if user.is_sales_rep:
        can_order |= Q(rep=user)
    return (
        accounts_visible_to(user=user)
        .annotate(can_order=ExpressionWrapper(can_order, output_field=BooleanField()))
        .order_by("number")
    )


def _visible_numbered(*, rep: bool):
    return (
        Account.objects.visible_to_user_id(slot("user_id", IntegerField()), rep=rep)
        .filter(number=slot("number", CharField()))
        .values_list(*model_columns(Account))[:1]
    )


# Every API request that names its account reads it so (an order's first read): compiled
# once per connection, for buyers and for reps.
VISIBLE_NUMBERED = {
    rep: CompiledRead(functools.partial(_visible_numbered, rep=rep)) for rep in (False, True)
}


def account_named(*, user, number: str | None) -> Account | None:
    """The account a request names by number, else the caller's only account; None for a
    caller with no account. Raises AccountNotYours for a number the caller may not see,
    AccountNotNamed when the caller has several and named none."""
    number = (number or "").strip()
    if number:
        found = (
            user.is_authenticated
            and user.is_active
            and (VISIBLE_NUMBERED[user.is_sales_rep].rows(user_id=user.pk, number=number))
        )
        if not found:
            raise AccountNotYours(number)
        return models_built(Account, found)[0]
    accounts = list(accounts_visible_to(user=user).order_by("number")[:2])
    if len(accounts) > 1:
        raise AccountNotNamed(
            "You have several accounts: name one by its number in `account` "
            "(GET /api/v1/accounts/ lists them)."
        )
    return accounts[0] if accounts else None


def ship_tos_visible_to(*, user, account: Account | None = None) -> QuerySet[ShipTo]:
    """The ship-to addresses of the caller's accounts (or of one of them), the default
    first within each account."""
    ship_tos = ShipTo.objects.filter(account__in=accounts_visible_to(user=user))
    if account is not None:
        ship_tos = ship_tos.filter(account=account)
    return ship_tos.select_related("account").order_by("account__number", "-is_default", "label")
