from django.db import models
from django.db.models import Q
from django.utils import timezone


class CommercialTermsQuerySet(models.QuerySet):
    def current(self):
        """The version in force now (the latest that has taken effect)."""
        return self.in_force().first()

    def in_force(self):
        """The versions that have taken effect, the one in force now first."""
        return self.filter(effective_from__lte=timezone.now()).order_by("-version")


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Accounts a user may see: their memberships; a rep's assigned accounts."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        condition = Q(memberships__user=user)
        if user.is_sales_rep:
            condition |= Q(rep=user)
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
