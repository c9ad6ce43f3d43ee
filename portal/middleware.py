from functools import cached_property

from django.utils.functional import SimpleLazyObject

from orders.selectors import accounts_visible_to

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
        # Whole rows: the current account is the one views work with.
        return list(accounts_visible_to(user=user).order_by("name"))

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


class CurrentAccountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        menu = AccountMenu(request)
        request.account_menu = menu
        request.account = SimpleLazyObject(lambda: menu.current)
        return self.get_response(request)
