"""Customer service's authority: what one person, and the whole team for one account,
may give a retailer over a rolling period (set in the commercial terms) without a second
person's approval. Credits, replacement goods and the freight waived on a replacement
all count, whatever case they were given on, so a second case never resets a limit."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from orders import rules
from orders.exceptions import OrderInputError
from orders.models import Account, CommercialTerms, CreditApproval, CreditApprovalStatus, Order
from orders.services.ordering import LineRequest

ZERO = Decimal("0.00")


def staff_role(*, user) -> str | None:
    """ "lead", "agent" or None: the customer-service authority a user holds. It comes
    from the permissions the staff groups grant (portal.roles): leads can decide credit
    requests, agents can issue credits; a superuser holds every permission."""
    if user is None or not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    if user.has_perm("orders.decide_creditapproval"):
        return "lead"
    if user.has_perm("orders.add_creditmemo"):
        return "agent"
    return None


def person_limit(*, user, terms: CommercialTerms) -> Decimal:
    """The most this user may give over the period on their own authority."""
    role = staff_role(user=user)
    if role == "lead":
        return terms.lead_credit_limit
    if role == "agent":
        return terms.agent_credit_limit
    return ZERO


@dataclass(frozen=True)
class Authority:
    period_days: int
    person_limit: Decimal
    person_given: Decimal  # given on this person's own authority in the period
    account_limit: Decimal
    account_given: Decimal  # given to the account in the period, or waiting for approval

    def allows(self, value: Decimal) -> bool:
        return (
            self.person_given + value <= self.person_limit
            and self.account_given + value <= self.account_limit
        )

    def explain(self, value: Decimal) -> str:
        """Why ``value`` needs a second person, in a sentence."""
        reasons = []
        if self.person_given + value > self.person_limit:
            reasons.append(
                f"you have given ${self.person_given:,.2f} of your ${self.person_limit:,.2f} "
                f"in the last {self.period_days} days"
            )
        if self.account_given + value > self.account_limit:
            reasons.append(
                f"the account has been given ${self.account_given:,.2f} of its "
                f"${self.account_limit:,.2f} in the last {self.period_days} days"
            )
        return f"${value:,.2f} is above your authority: " + " and ".join(reasons) + "."


def authority_for(*, user, account: Account, terms: CommercialTerms, now=None) -> Authority:
    """What ``user`` may still give ``account`` on their own. Call it under the authority
    locks (orders.locks.authority_lock) so two requests cannot both fit the same room."""
    since = (now or timezone.now()) - dt.timedelta(days=terms.authority_period_days)
    own = Q(requested_by=user, needed_approval=False, status=CreditApprovalStatus.APPROVED)
    to_account = Q(
        case__account=account,
        status__in=[CreditApprovalStatus.APPROVED, CreditApprovalStatus.PENDING],
    )
    given = CreditApproval.objects.filter(requested_at__gte=since).aggregate(
        person=Sum("amount", filter=own), account=Sum("amount", filter=to_account)
    )
    return Authority(
        period_days=terms.authority_period_days,
        person_limit=person_limit(user=user, terms=terms),
        person_given=given["person"] or ZERO,
        account_limit=terms.account_concession_limit,
        account_given=given["account"] or ZERO,
    )


@dataclass(frozen=True)
class ReplacementValue:
    goods: Decimal
    freight: Decimal

    @property
    def total(self) -> Decimal:
        return self.goods + self.freight


def replacement_value(*, order: Order, lines: list[LineRequest]) -> ReplacementValue:
    """A replacement's worth: its pairs at the prices of the order replaced (a SKU not on
    it at its list price), plus the freight a paid order of that value would have cost.
    Unknown SKUs and quantities that are not whole pairs are refused by row."""
    from inventory.models import SKU

    codes = [str(line.sku or "").strip().upper() for line in lines]
    prices = {
        line.sku.code.upper(): line.unit_price
        for line in order.lines.select_related("sku")
        if line.sku.code.upper() in codes
    }
    for sku in SKU.objects.filter(code__in=set(codes) - set(prices)):
        prices[sku.code.upper()] = sku.price
    errors, goods = {}, ZERO
    for index, (code, line) in enumerate(zip(codes, lines, strict=True)):
        if code not in prices:
            errors[f"lines[{index}].sku"] = [f"No SKU {code or '(blank)'}."]
        elif not isinstance(line.quantity, int) or isinstance(line.quantity, bool):
            errors[f"lines[{index}].quantity"] = ["Enter a whole number of pairs."]
        elif line.quantity < 1:
            errors[f"lines[{index}].quantity"] = ["Enter at least 1 pair."]
        else:
            goods += prices[code] * line.quantity
    if errors:
        raise OrderInputError(errors)
    goods = rules.money(goods)
    terms = order.terms or rules.current_terms()
    freight = rules.freight_quote(account=order.account, terms=terms, subtotal=goods).freight
    return ReplacementValue(goods=goods, freight=freight)
