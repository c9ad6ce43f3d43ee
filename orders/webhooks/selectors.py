"""Reads: which endpoints a user may see."""

from django.db.models import Q, QuerySet

from orders.selectors import accounts_visible_to
from orders.webhooks.models import Endpoint

ALL_ACCOUNTS_PERMISSION = "webhooks.receive_all_accounts"


def endpoints_visible_to(*, user) -> QuerySet[Endpoint]:
    """Live endpoints of the user's accounts; every-account endpoints too for a user
    holding the permission (the brand's ERP)."""
    condition = Q(account__in=accounts_visible_to(user=user))
    if user.is_active and user.has_perm(ALL_ACCOUNTS_PERMISSION):
        condition |= Q(account__isnull=True)
    return Endpoint.objects.filter(condition, deleted_at=None).select_related("account")


def endpoints_hearing(**accounts) -> QuerySet[Endpoint]:
    """Live endpoints that hear events of the accounts ``accounts`` names (a lookup on
    account_id: ``account_id__in=ids``, or ``account_id=OuterRef("pk")``): their own
    and every-account endpoints."""
    return Endpoint.objects.filter(Q(**accounts) | Q(account__isnull=True), deleted_at=None)
