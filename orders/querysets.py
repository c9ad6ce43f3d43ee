from django.db import models
from django.db.models import Q
from django.utils import timezone


class CommercialTermsQuerySet(models.QuerySet):
    def current(self):
        """The version in force now (the latest that has taken effect)."""
        return self.in_force().first()

    def in_force(self, at=None):
        """The versions that have taken effect by ``at`` (now), the one in force first."""
        at = timezone.now() if at is None else at
        return self.filter(effective_from__lte=at).order_by("-version")


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Accounts a user may see: their memberships; a rep's assigned accounts."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.visible_to_user_id(user.pk, rep=user.is_sales_rep)

    def visible_to_user_id(self, user_id, *, rep: bool):
        """visible_to for an active user given by id (or an expression standing for it),
        ``rep``: whether they are a sales rep."""
        condition = Q(memberships__user=user_id)
        if rep:
            condition |= Q(rep=user_id)
        return self.filter(condition, is_active=True).distinct()


class MembershipQuerySet(models.QuerySet):
    def buyers(self):
        return self.filter(role="buyer")


class OrderQuerySet(models.QuerySet):
    def for_accounts(self, accounts):
        return self.filter(account__in=accounts)

    def open(self):
        return self.filter(status__in=["open", "partially_shipped"])

    def on_credit_hold(self):
        return self.filter(credit_held_at__isnull=False, credit_released_at__isnull=True)

    def shippable(self):
        """Open orders the warehouse may ship: not on credit hold."""
        return self.open().exclude(credit_held_at__isnull=False, credit_released_at__isnull=True)


class OrderLineQuerySet(models.QuerySet):
    def backordered(self):
        return self.filter(backordered__gt=0)

    def open(self):
        return self.filter(Q(allocated__gt=0) | Q(backordered__gt=0))
