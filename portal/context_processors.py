def current_account(request):
    account = getattr(request, "account", None)
    return {"current_account": account if account else None}
