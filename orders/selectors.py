"""Read use cases for accounts and orders."""

from django.db.models import QuerySet

from orders.models import Account, Membership, MembershipRole


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
    return Membership.objects.filter(
        user=user, account=account, role=MembershipRole.BUYER
    ).exists()
