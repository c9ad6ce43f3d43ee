"""Shared set-ups for the ordering tests: a catalogue with stock and an inbound run."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from inventory.models import Replenishment
from orders.models import MembershipRole, Order
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    MembershipFactory,
    SKUFactory,
    StockLevelFactory,
    StyleFactory,
    UserFactory,
)


def stocked_sku(*, warehouse, on_hand=100, holdback=0, replenishment=Replenishment.COMMITTED, **kw):
    sku = SKUFactory(style=StyleFactory(replenishment=replenishment), **kw)
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=on_hand, holdback=holdback)
    return sku


def inbound_for(*, sku, warehouse, quantity=100, days=21, **kw):
    run = InboundRunFactory(
        warehouse=warehouse, eta=timezone.localdate() + dt.timedelta(days=days), **kw
    )
    return InboundLineFactory(run=run, sku=sku, quantity=quantity)


def make_fill_in(account):
    """Give the account a previous order so the next one is a fill-in."""
    from orders.rules import current_terms

    Order.objects.create(account=account, terms=current_terms(), number=f"SO-PREV-{account.pk}")


@pytest.fixture
def fill_in_account(account):
    make_fill_in(account)
    return account


@pytest.fixture
def viewer(account):
    return MembershipFactory(account=account, user=UserFactory(), role=MembershipRole.VIEWER).user


@pytest.fixture
def statement_renders(monkeypatch):
    """Statement renders queued by requests, as the task's arguments, instead of being
    published; the cache that keeps a render from being queued twice starts empty."""
    from orders.tasks import statement_render_task

    queued: list[tuple] = []
    monkeypatch.setattr(
        statement_render_task, "apply_async", lambda args, **kwargs: queued.append(tuple(args))
    )
    cache.clear()
    yield queued
    cache.clear()
