from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q


class MessageQuerySet(models.QuerySet):
    def for_recipient(self, user):
        return self.filter(recipient=user)

    def in_feed(self):
        """What the portal feed lists: the messages themselves, not the digest envelopes
        nor customer-service resends of a message already listed, nor password resets."""
        return self.exclude(kind__in=["digest", "password_reset"]).filter(resent_from__isnull=True)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def held(self):
        return self.filter(status="held")

    def due(self, *, now: datetime, pending_grace: timedelta):
        """Rows the sweep should (re)deliver: pending rows whose after-commit kick seems
        lost (older than the grace), retries that are due, and rows whose sending lease
        expired (the worker died)."""
        return self.filter(
            Q(status="pending", next_attempt_at__lte=now - pending_grace)
            | Q(status="retry", next_attempt_at__lte=now)
            | Q(status="sending", lease_until__lt=now)
        )


class NotificationPreferenceQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)
