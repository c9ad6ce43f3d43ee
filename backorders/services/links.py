"""Signed, expiring one-click links for decision requests. The payload is the request id
and the user it was sent to; the link opens a confirmation page (GET only shows it)."""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "backorders.decision-link"


def link_max_age() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "BACKORDER_DECISION_LINK_DAYS", 14))


def decision_token(*, request_id: int, user_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"r": request_id, "u": user_id})


def decision_token_read(token: str) -> tuple[int, int]:
    """(request id, user id) from a token; raises signing.SignatureExpired when too old
    and signing.BadSignature when tampered with."""
    payload = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=link_max_age())
    if not isinstance(payload, dict):
        raise signing.BadSignature("Malformed payload.")
    request_id, user_id = payload.get("r"), payload.get("u")
    if not isinstance(request_id, int) or not isinstance(user_id, int):
        raise signing.BadSignature("Malformed payload.")
    return request_id, user_id


def decision_urls(*, request, user) -> dict[str, str]:
    token = decision_token(request_id=request.pk, user_id=user.pk)
    url = settings.SITE_URL + reverse("portal:decision_link", args=[token])
    return {
        "decide_url": url,
        "keep_url": f"{url}?action=keep",
        "switch_url": f"{url}?action=switch",
        "cancel_url": f"{url}?action=cancel",
    }
