from functools import cached_property

from django.db.models import Exists, OuterRef
from django.utils.functional import SimpleLazyObject

from orders.models import Membership, MembershipRole
from orders.selectors import accounts_visible_to, user_can_order
from portal.frame_cache import access_cached

SESSION_ACCOUNT_KEY = "current_account_id"


class AccountMenu:
    """The accounts the signed-in user may work in, fetched once per request (one query,
    only when something asks), and the current one picked from that same list: the
    session's choice if still visible, else the first by name. The header's switcher and
    every view's request.account read this one list."""

    def __init__(self, request):
        self._request = request

    @cached_property
    def accounts(self):
        user = self._request.user
        if not user.is_authenticated:
            return []
        # Kept in the shared cache under the access version (any membership, account or
        # user write raises it), so this query runs (and is built) once per user between
        # such writes.
        return access_cached(
            f"accounts:{user.pk}",
            lambda: _accounts_of(user),
            read=getattr(user, "access_read", None),  # read with the user (portal.auth)
        )

    @cached_property
    def current(self):
        chosen = self._request.session.get(SESSION_ACCOUNT_KEY)
        for account in self.accounts:
            if account.pk == chosen:
                return account
        return self.accounts[0] if self.accounts else None

    @property
    def can_switch(self):
        return len(self.accounts) > 1

    @property
    def is_buyer(self) -> bool:
        """The user is a buyer of the current account (its settings are theirs to change)."""
        return bool(self.current and self.current.user_is_buyer)

    @property
    def can_order(self) -> bool:
        """orders.selectors.user_can_order for the current account, from the same list."""
        user = self._request.user
        current = self.current
        if current is None:
            return False
        return self.is_buyer or bool(user.is_sales_rep and current.rep_id == user.pk)

    def can_order_in(self, account) -> bool:
        """orders.selectors.user_can_order for `account`, from this list (no query) when
        it holds the account: its rows carry what that asks (kept under the access
        version, which a membership, account or user write raises)."""
        user = self._request.user
        listed = next((row for row in self.accounts if row.pk == account.pk), None)
        if listed is None:
            return user_can_order(user=user, account=account)
        return bool(
            user.is_active
            and listed.is_active
            and (listed.user_is_buyer or (user.is_sales_rep and listed.rep_id == user.pk))
        )


def _accounts_of(user) -> list:
    """Whole rows: the current account is the one views work with; with whether the user
    is its buyer, in the same query (the header and menus show what they may do)."""
    buyer = Membership.objects.filter(user=user, account=OuterRef("pk"), role=MembershipRole.BUYER)
    return list(
        accounts_visible_to(user=user).annotate(user_is_buyer=Exists(buyer)).order_by("name")
    )


class CurrentAccountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        menu = AccountMenu(request)
        request.account_menu = menu
        request.account = SimpleLazyObject(lambda: menu.current)
        return self.get_response(request)
