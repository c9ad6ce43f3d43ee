"""Signed, expiring links from the decision emails. The payload names the event (the ETA
change), the account and the user it was sent to; the link opens one page answering
every line of that event (GET only shows it). Single-request tokens are still read, for
the emails sent before messages grouped an event's lines."""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "backorders.decision-link"
EVENT_SALT = "backorders.decisions-link"


def link_max_age() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "BACKORDER_DECISION_LINK_DAYS", 14))


def decision_token(*, request_id: int, user_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"r": request_id, "u": user_id})


def _read(token: str, *, salt: str, fields: tuple[str, ...]) -> tuple[int, ...]:
    payload = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=link_max_age())
    if not isinstance(payload, dict):
        raise signing.BadSignature("Malformed payload.")
    values = tuple(payload.get(name) for name in fields)
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        raise signing.BadSignature("Malformed payload.")
    return values


def decision_token_read(token: str) -> tuple[int, int]:
    """(request id, user id) from a token; raises signing.SignatureExpired when too old
    and signing.BadSignature when tampered with."""
    return _read(token, salt=SALT, fields=("r", "u"))


def decisions_token(*, eta_change_id: int, account_id: int, user_id: int) -> str:
    return signing.TimestampSigner(salt=EVENT_SALT).sign_object(
        {"e": eta_change_id, "a": account_id, "u": user_id}
    )


def decisions_token_read(token: str) -> tuple[int, int, int]:
    """(ETA change id, account id, user id) from a token; raises as decision_token_read."""
    return _read(token, salt=EVENT_SALT, fields=("e", "a", "u"))


def decisions_urls(*, eta_change_id: int, account_id: int, user) -> dict[str, str]:
    """The one page answering an event's lines, and the same page with every line
    preselected to keep or to cancel (the page still asks to confirm)."""
    token = decisions_token(eta_change_id=eta_change_id, account_id=account_id, user_id=user.pk)
    url = settings.SITE_URL + reverse("portal:decisions_link", args=[token])
    return {
        "decide_url": url,
        "keep_all_url": f"{url}?all=keep",
        "cancel_all_url": f"{url}?all=cancel",
    }
