"""API tokens (django-rest-knox): knox keeps only a hash of each key, so a key is shown
once, when it is created. The command and the profile page both go through here."""

from django.db import transaction
from django.db.models import QuerySet
from knox.models import AuthToken


class TokenRefused(Exception):
    """The user may not hold API tokens (inactive)."""


@transaction.atomic
def api_token_create(*, user) -> tuple[AuthToken, str]:
    """A new token for the user; returns the row and the key (the only time it is known)."""
    if not user.is_active:
        raise TokenRefused(f"{user.email} is inactive.")
    return AuthToken.objects.create(user=user)


def api_tokens_for(*, user) -> QuerySet[AuthToken]:
    return AuthToken.objects.filter(user=user).order_by("-created")


def api_token_revoke(*, user, digest: str) -> bool:
    """Delete one of the user's own tokens; False if it is not theirs or already gone."""
    deleted, _ = AuthToken.objects.filter(user=user, digest=digest).delete()
    return bool(deleted)
