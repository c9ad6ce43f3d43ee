"""Reads of a caller's accounts and their ship-to addresses, for the API's directory
(`GET /api/v1/accounts/`, `GET /api/v1/ship-tos/`) and the account a request names."""

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

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


def account_named(*, user, number: str | None) -> Account | None:
    """The account a request names by number, else the caller's only account; None for a
    caller with no account. Raises AccountNotYours for a number the caller may not see,
    AccountNotNamed when the caller has several and named none."""
    visible = accounts_visible_to(user=user)
    number = (number or "").strip()
    if number:
        account = visible.filter(number=number).first()
        if account is None:
            raise AccountNotYours(number)
        return account
    accounts = list(visible.order_by("number")[:2])
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
