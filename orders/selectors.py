"""Read use cases for accounts and orders."""

import datetime as dt

from django.db.models import QuerySet

from orders.models import Account, BackorderPeg, CommercialTerms, Membership, MembershipRole


def accounts_visible_to(*, user) -> QuerySet[Account]:
    """The one answer to "which accounts may this user see". Every view and API uses it."""
    return Account.objects.visible_to(user)


def account_for_user(*, user, account_id) -> Account | None:
    """The account with this id if the user may see it, else None."""
    return accounts_visible_to(user=user).filter(pk=account_id).first()


def user_can_order(*, user, account: Account) -> bool:
    """Buyers order for their account; a rep orders for the accounts assigned to them."""
    if not user.is_authenticated or not user.is_active or not account.is_active:
        return False
    if user.is_sales_rep and account.rep_id == user.pk:
        return True
    return Membership.objects.filter(user=user, account=account, role=MembershipRole.BUYER).exists()


def line_expected_dates(*, lines) -> dict[int, dt.date]:
    """The expected ship date of each backordered line, derived from its pegs' runs' ETAs
    (the latest of them), never copied. Lines without pegs are absent."""
    from inventory.selectors import run_etas, ship_date_from_run

    line_ids = [line.pk for line in lines]
    pegs = list(
        BackorderPeg.objects.filter(line_id__in=line_ids).values_list(
            "line_id", "inbound_line__run_id", "line__order__terms_id"
        )
    )
    if not pegs:
        return {}
    etas = run_etas(run_ids={run_id for _, run_id, _ in pegs})
    terms = {t.pk: t for t in CommercialTerms.objects.filter(pk__in={t for _, _, t in pegs})}
    expected = {}
    for line_id, run_id, terms_id in pegs:
        date = ship_date_from_run(eta=etas[run_id], terms=terms[terms_id])
        expected[line_id] = max(date, expected.get(line_id, date))
    return expected
