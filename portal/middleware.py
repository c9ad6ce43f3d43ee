from django.utils.functional import SimpleLazyObject

from orders.selectors import accounts_visible_to

SESSION_ACCOUNT_KEY = "current_account_id"


def _current_account(request):
    """The account the user is working in: the one chosen in the session if still
    visible to them, else their first visible account."""
    if not request.user.is_authenticated:
        return None
    visible = accounts_visible_to(user=request.user)
    chosen = request.session.get(SESSION_ACCOUNT_KEY)
    account = visible.filter(pk=chosen).first() if chosen else None
    return account or visible.order_by("name").first()


class CurrentAccountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.account = SimpleLazyObject(lambda: _current_account(request))
        return self.get_response(request)
