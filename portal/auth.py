"""Sign-in helpers shared by the login lockout and the password pages."""

import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from portal.frame_cache import access_cached, access_read, ahead_read, frame_names


def login_name_normalize(raw) -> str:
    """The login form's reading of a typed name (Django's UsernameField: NFKC, stripped)."""
    return unicodedata.normalize("NFKC", str(raw or "")).strip()


def lockout_username(request, credentials=None) -> str | None:
    """AXES_USERNAME_CALLABLE: the name failed sign-ins are counted under.

    Sign-in finds the user with email__iexact (portal.models.UserManager), so every
    spelling that would sign in as someone is counted under that user's stored email:
    five failures as someone@x lock SOMEONE@X too. A name that matches nobody is counted
    case-folded. Read once per request (axes asks several times)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    raw = (credentials or {}).get(field) or getattr(request, "data", request.POST).get(field)
    name = login_name_normalize(raw)
    if not name:
        return None
    cached = getattr(request, "_lockout_username", None)
    if cached and cached[0] == name:
        return cached[1]
    stored = (
        get_user_model()
        ._default_manager.filter(email__iexact=name)
        .values_list("email", flat=True)
        .first()
    )
    key = stored or name.casefold()
    request._lockout_username = (name, key)
    return key


class CachedModelBackend(ModelBackend):
    """Django's model backend, with the session's user read from the shared cache under
    the access version (portal.frame_cache): a save of the user (a password, a
    deactivation, sessions ended) raises it, so the next request reads the row again.
    The header's accounts (portal.middleware.AccountMenu) are read in the same round trip
    (the session's, when it brought them) and handed on with this request's user as
    `access_read`."""

    def get_user(self, user_id):
        read = ahead_read(user_id) or access_read(frame_names(user_id))
        user = access_cached(
            f"user:{user_id}", lambda: ModelBackend.get_user(self, user_id), read=read
        )
        if user is not None:
            user.access_read = read  # set after it is kept: never stored with the user
        return user
