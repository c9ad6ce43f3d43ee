from functools import cached_property

from django.utils.functional import SimpleLazyObject

from orders.selectors import accounts_visible_to
from portal.middleware import SESSION_ACCOUNT_KEY


class AccountMenu:
    """The header's account switcher: the user's visible accounts, fetched once (one query,
    and only if a template asks), and the current one picked from that same list with the
    rule CurrentAccountMiddleware uses (the session's choice if visible, else the first)."""

    def __init__(self, request):
        self._request = request

    @cached_property
    def accounts(self):
        user = self._request.user
        return list(accounts_visible_to(user=user).order_by("name").only("pk", "name", "number"))

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


def current_account(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_account": None, "account_menu": None}
    menu = AccountMenu(request)
    return {"current_account": SimpleLazyObject(lambda: menu.current), "account_menu": menu}
