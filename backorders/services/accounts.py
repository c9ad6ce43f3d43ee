"""The account's backorder preferences, set by its buyers."""

from django.db import transaction

from backorders.exceptions import BackorderInputError, DecisionNotAllowed
from orders.models import Account, DecisionDefault, Membership, MembershipRole

MAX_WINDOW_DAYS = 180


@transaction.atomic(durable=True)
def account_backorder_settings_set(
    *, account: Account, user, accepts_backorders: bool, window_days, decision_default: str
) -> Account:
    """Accept backorders or not, hold them `window_days` (None: the brand's default), and
    what happens when a late-date question goes unanswered. Buyers of the account only."""
    if not Membership.objects.filter(
        user=user, account=account, role=MembershipRole.BUYER
    ).exists():
        raise DecisionNotAllowed("Only the account's buyers may change its settings.")
    errors = {}
    if window_days is not None and (
        isinstance(window_days, bool)
        or not isinstance(window_days, int)
        or not 1 <= window_days <= MAX_WINDOW_DAYS
    ):
        errors["window_days"] = [f"Enter a number of days from 1 to {MAX_WINDOW_DAYS}."]
    if decision_default not in DecisionDefault.values:
        errors["decision_default"] = [f"Choose one of: {', '.join(DecisionDefault.values)}."]
    if errors:
        raise BackorderInputError(errors)
    account = Account.objects.select_for_update().get(pk=account.pk)
    account.accepts_backorders = bool(accepts_backorders)
    account.backorder_window_days = window_days
    account.decision_default = decision_default
    account.save(update_fields=["accepts_backorders", "backorder_window_days", "decision_default"])
    return account
