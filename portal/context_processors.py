def current_account(request):
    """The header's account switcher and the current account, both from the one list
    CurrentAccountMiddleware fetches for the request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_account": None, "account_menu": None}
    return {"current_account": request.account, "account_menu": request.account_menu}
