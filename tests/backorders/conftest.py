import pytest

from tests.factories import MembershipFactory, StaffFactory, UserFactory


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Outbox kicks after commit would try the broker; the rows are what these tests read."""
    monkeypatch.setattr("notifications.services.delivery_kick", lambda ids: 0)


@pytest.fixture
def second_buyer(account):
    return MembershipFactory(account=account, user=UserFactory()).user


@pytest.fixture
def planner(db):
    from django.contrib.auth.models import Permission

    user = StaffFactory()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="inventory",
            codename__in=["change_eta", "sync_stock", "change_inboundrun"],
        )
    )
    return user


@pytest.fixture(autouse=True)
def _small_minimums(db):
    """Fill-in sized test orders: no opening-order value or pair minimum in the way."""
    from decimal import Decimal

    from tests.factories import CommercialTermsFactory

    terms = CommercialTermsFactory()
    terms.opening_order_minimum = Decimal("0.00")
    terms.fill_in_minimum_pairs = 1
    terms.save()
    return terms
