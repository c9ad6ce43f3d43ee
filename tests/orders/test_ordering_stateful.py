"""A stateful property test: any sequence of placements, cancellations, receipts and
stock counts keeps the stock and line invariants, checked with SQL aggregates."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from inventory.models import InboundLine, StockLevel
from orders.models import BackorderPolicy, OrderLine
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from tests.factories import (
    AccountFactory,
    InboundLineFactory,
    InboundRunFactory,
    MembershipFactory,
    ShipToFactory,
    StaffFactory,
    UserFactory,
)
from tests.orders.conftest import make_fill_in, stocked_sku

try:  # the backorders engine's services, when that app provides them
    from backorders.services import ReceiveRequest, StockCountRequest, run_receive, stock_sync
except ImportError:  # pragma: no cover - a simple stand-in keeps the machine runnable
    run_receive = stock_sync = None


def _receive(*, run, sku, quantity, user):
    if run_receive is not None:
        run_receive(run=run, user=user, lines=[ReceiveRequest(sku.code, quantity)])
        return
    updated = InboundLine.objects.filter(
        run=run, sku=sku, received__lte=F("quantity") - F("promised") - quantity
    ).update(received=F("received") + quantity)
    if updated:
        StockLevel.objects.filter(sku=sku).update(on_hand=F("on_hand") + quantity)


def _count(*, sku, on_hand, user):
    if stock_sync is not None:
        stock_sync(counts=[StockCountRequest(sku.code, on_hand)], user=user)
        return
    StockLevel.objects.filter(sku=sku, allocated__lte=on_hand).update(on_hand=on_hand)


class OrderingMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self):
        super().__init__()
        self.warehouse = self.shared["warehouse"]
        self.staff = self.shared["staff"]
        self.skus = [stocked_sku(warehouse=self.warehouse, on_hand=20) for _ in range(2)]
        self.run = InboundRunFactory(warehouse=self.warehouse)
        for sku in self.skus:
            InboundLineFactory(run=self.run, sku=sku, quantity=30)
        self.buyers = []
        for _ in range(2):
            account = AccountFactory()
            ShipToFactory(account=account)
            make_fill_in(account)
            user = MembershipFactory(account=account, user=UserFactory()).user
            self.buyers.append((account, user))

    @rule(
        target=orders,
        who=st.integers(0, 1),
        quantities=st.lists(st.integers(0, 25), min_size=2, max_size=2),
        allow=st.booleans(),
    )
    def place(self, who, quantities, allow):
        account, user = self.buyers[who]
        lines = [
            LineRequest(sku.code, quantity)
            for sku, quantity in zip(self.skus, quantities, strict=True)
            if quantity
        ]
        try:
            result = order_place(
                account=account,
                user=user,
                lines=lines,
                backorder_policy=BackorderPolicy.ALLOW if allow else BackorderPolicy.NONE,
            )
        except ValidationError:
            return None  # below the minimum or no lines: refused, nothing written
        return (result.order, user)

    @rule(placed=orders, part=st.integers(0, 30))
    def cancel(self, placed, part):
        if placed is None:
            return
        order, user = placed
        open_lines = [line for line in order.lines.all() if line.open_quantity]
        if not open_lines:
            return
        if part == 0:
            order_cancel(order=order, user=user)
            return
        line = open_lines[part % len(open_lines)]
        quantity = min(part, line.open_quantity)
        order_cancel(order=order, user=user, lines=[CancelRequest(line.pk, quantity)])

    @rule(which=st.integers(0, 1), quantity=st.integers(1, 30))
    def receive(self, which, quantity):
        sku = self.skus[which]
        inbound = InboundLine.objects.get(run=self.run, sku=sku)
        outstanding = inbound.quantity - inbound.received
        if outstanding <= 0:
            return
        self.run.refresh_from_db()
        _receive(run=self.run, sku=sku, quantity=min(quantity, outstanding), user=self.staff)

    @rule(which=st.integers(0, 1), on_hand=st.integers(0, 60))
    def count(self, which, on_hand):
        _count(sku=self.skus[which], on_hand=on_hand, user=self.staff)

    @invariant()
    def stock_allocated_equals_allocations(self):
        levels = StockLevel.objects.filter(sku__in=self.skus).annotate(
            held=Coalesce(Sum("allocations__quantity"), 0)
        )
        for level in levels:
            assert level.allocated == level.held, level
            assert 0 <= level.allocated <= level.on_hand, level

    @invariant()
    def inbound_promised_equals_pegs(self):
        lines = InboundLine.objects.filter(sku__in=self.skus).annotate(
            pegged=Coalesce(Sum("pegs__quantity"), 0)
        )
        for line in lines:
            assert line.promised == line.pegged, line
            assert line.promised <= line.quantity - line.received, line

    @invariant()
    def every_line_splits_exactly(self):
        lines = OrderLine.objects.filter(sku__in=self.skus)
        broken = lines.exclude(
            quantity=F("allocated") + F("backordered") + F("shipped") + F("cancelled")
        )
        assert not broken.exists()
        held = lines.annotate(held=Coalesce(Sum("allocations__quantity"), 0)).exclude(
            allocated=F("held")
        )
        assert not held.exists()
        pegged = lines.annotate(pegged=Coalesce(Sum("pegs__quantity"), 0)).exclude(
            backordered=F("pegged")
        )
        assert not pegged.exists()
        assert not lines.filter(
            Q(allocated__lt=0) | Q(backordered__lt=0) | Q(cancelled__lt=0)
        ).exists()


@pytest.mark.slow
def test_ordering_invariants_hold_for_any_sequence(terms, warehouse):
    OrderingMachine.shared = {"warehouse": warehouse, "staff": StaffFactory()}
    run_state_machine_as_test(
        OrderingMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
