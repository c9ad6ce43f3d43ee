"""Write use cases for retailer accounts and who belongs to them."""

from django.db import transaction

from orders.models import Membership


@transaction.atomic(durable=True)
def membership_remove(*, membership: Membership) -> None:
    """Take a user out of an account and end their sessions everywhere, so an open
    browser tab cannot keep reading the account's data."""
    user = membership.user
    membership.delete()
    user.sessions_end()


@transaction.atomic(durable=True)
def user_deactivate(*, user) -> None:
    """Disable a user: no new sign-in, and every open session ends."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    user.sessions_end()
