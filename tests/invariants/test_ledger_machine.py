"""The allocation ledger under any sequence of what happens to pairs, on PostgreSQL: a
hypothesis state machine places and cancels orders, receives runs (any run, out of
order, partly), counts stock up and down, moves ETAs earlier and later, cancels runs,
lets days pass (overdue runs, decision deadlines, the sweep), answers decisions and
ships. After every step every invariant of the design holds over every row (the SQL
audit), plus fairness: no backorder waits while a younger backorder of the same SKU
and warehouse was filled, and no ATS above the holdback while a backorder waits."""

import contextlib
import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from backorders.exceptions import BackorderError
from backorders.models import DecisionRequest, DecisionStatus
from backorders.services import (
    ReceiveRequest,
    StockCountRequest,
    backorder_decide,
    backorder_sweep_all,
    decision_expire,
    eta_change,
    overdue_runs_check,
    run_cancel,
    run_receive,
    stock_sync,
)
from inventory.exceptions import InventoryError
from inventory.models import InboundRun, StockLevel
from orders.exceptions import OrderError
from orders.models import BackorderPeg, OrderLine
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from orders.services.fulfilment import shipment_confirm
from portal.invariants import invariant_violations
from tests.factories import (
    AccountFactory,
    InboundLineFactory,
    InboundRunFactory,
    MembershipFactory,
    SKUFactory,
    StaffFactory,
    StockLevelFactory,
    StyleFactory,
    WarehouseFactory,
)

SKUS = 2
RUNS = 3
ACCOUNTS = 2

# The failures a rule may meet by design (nothing to allocate, a run already received,
# a date in the past): each leaves every row as it was.
REFUSED = (ValidationError, BackorderError, InventoryError, OrderError)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Frozen, and moved only by days_pass: the terms in force took effect before now.
        self.traveller = time_machine.travel(timezone.now(), tick=False)
        self.clock = self.traveller.start()
        self.savepoint = transaction.savepoint()
        self.staff = StaffFactory()
        self.filled = []  # (line id, sku id, warehouse id, placed_at, step)
        self.waiting_since = {}  # line id -> step it started waiting
        self.step = 0

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)
        self.traveller.stop()

    @initialize()
    def world(self):
        style = StyleFactory()
        self.warehouse = WarehouseFactory()
        self.skus = [SKUFactory(style=style, color=f"Colour {n}") for n in range(SKUS)]
        for sku in self.skus:
            StockLevelFactory(sku=sku, warehouse=self.warehouse, on_hand=6)
        self.runs = []
        for n in range(RUNS):
            run = InboundRunFactory(
                warehouse=self.warehouse, eta=self._today() + dt.timedelta(days=7 * (n + 1))
            )
            for sku in self.skus:
                InboundLineFactory(run=run, sku=sku, quantity=12)
            self.runs.append(run)
        self.accounts = []
        for _ in range(ACCOUNTS):
            account = AccountFactory()
            self.accounts.append((account, MembershipFactory(account=account).user))
        self._observe()

    # --- what happens to pairs ------------------------------------------------------

    @rule(
        account=st.integers(0, ACCOUNTS - 1),
        sku=st.integers(0, SKUS - 1),
        quantity=st.integers(1, 14),
    )
    def place(self, account, sku, quantity):
        account, buyer = self.accounts[account]
        self._attempt(
            order_place,
            account=account,
            user=buyer,
            lines=[LineRequest(self.skus[sku].code, quantity)],
            po_number="PO",
        )

    @rule(index=st.integers(0, 50), part=st.booleans())
    def cancel(self, index, part):
        line = self._pick(OrderLine.objects.filter(order__account__in=self._accounts()), index)
        if line is None:
            return
        open_pairs = line.allocated + line.backordered
        quantity = max(open_pairs // 2, 1) if part else None
        self._attempt(
            order_cancel,
            order=line.order,
            user=self._buyer(line.order.account_id),
            lines=[CancelRequest(line.pk, quantity)],
        )

    @rule(run=st.integers(0, RUNS - 1), sku=st.integers(0, SKUS - 1), quantity=st.integers(1, 12))
    def receive_part(self, run, sku, quantity):
        self._attempt(
            run_receive,
            run=self._run(run),
            user=self.staff,
            lines=[ReceiveRequest(self.skus[sku].code, quantity)],
        )

    @rule(run=st.integers(0, RUNS - 1))
    def receive_all(self, run):
        self._attempt(run_receive, run=self._run(run), user=self.staff)

    @rule(sku=st.integers(0, SKUS - 1), delta=st.integers(-8, 8))
    def count_stock(self, sku, delta):
        level = StockLevel.objects.get(sku=self.skus[sku], warehouse=self.warehouse)
        self._attempt(
            stock_sync,
            counts=[
                StockCountRequest(
                    self.skus[sku].code, max(level.on_hand + delta, 0), self.warehouse.code
                )
            ],
            user=self.staff,
        )

    @rule(run=st.integers(0, RUNS - 1), days=st.integers(-10, 40).filter(bool))
    def move_eta(self, run, days):
        run = self._run(run)
        today = self._today()
        self._attempt(
            eta_change,
            run=run,
            new_eta=max(run.eta + dt.timedelta(days=days), today),
            reason="Factory news",
            user=self.staff,
        )

    @rule(run=st.integers(0, RUNS - 1))
    def cancel_run(self, run):
        self._attempt(run_cancel, run=self._run(run), reason="Factory closed", user=self.staff)

    @rule(index=st.integers(0, 20), action=st.sampled_from(["keep", "cancel"]))
    def decide(self, index, action):
        request = self._pick(
            DecisionRequest.objects.filter(status=DecisionStatus.PENDING).select_related(
                "line__order__account"
            ),
            index,
        )
        if request is None:
            return
        self._attempt(
            backorder_decide,
            line=request.line,
            action=action,
            user=self._buyer(request.line.order.account_id),
            decision_request=request,
        )

    @rule(index=st.integers(0, 50))
    def ship(self, index):
        line = self._pick(
            OrderLine.objects.filter(order__account__in=self._accounts(), allocated__gt=0), index
        )
        if line is None:
            return
        self._attempt(
            shipment_confirm,
            order=line.order,
            carrier="UPS",
            tracking=f"1Z{self.step:06d}{line.pk:08d}",
            lines=[{"sku": line.sku.code, "quantity": line.allocated}],
            user=self.staff,
        )

    @rule(days=st.integers(1, 9))
    def days_pass(self, days):
        """The morning jobs after `days` days: overdue runs, decision deadlines, sweep."""
        self.clock.shift(dt.timedelta(days=days))
        today = self._today()
        overdue_runs_check(today=today)
        while decision_expire(today=today).more:
            pass
        backorder_sweep_all(today=today)
        self._observe()

    # --- after every step -------------------------------------------------------------

    @invariant()
    def ledger_invariants_hold(self):
        broken = {name: count for name, count in invariant_violations().items() if count}
        assert not broken, broken

    @invariant()
    def no_ats_above_holdback_while_a_backorder_waits(self):
        waiting = set(
            BackorderPeg.objects.filter(line__sku__in=self.skus).values_list(
                "line__sku_id", "inbound_line__run__warehouse_id"
            )
        )
        offered = {
            (level.sku_id, level.warehouse_id)
            for level in StockLevel.objects.filter(
                sku__in=self.skus, on_hand__gt=F("allocated") + F("holdback")
            )
        }
        assert not waiting & offered, waiting & offered

    @invariant()
    def no_backorder_waits_while_a_younger_one_was_filled(self):
        waiting = OrderLine.objects.filter(sku__in=self.skus, backordered__gt=0).values_list(
            "pk", "sku_id", "order__placed_at"
        )
        for line_id, sku_id, placed_at in waiting:
            since = self.waiting_since.get(line_id, self.step)
            jumped = [
                filled
                for filled in self.filled
                if filled[1] == sku_id
                and filled[3] > placed_at
                and filled[4] >= since
                and filled[0] != line_id
            ]
            assert not jumped, (line_id, jumped)

    # --- helpers ------------------------------------------------------------------------

    def _attempt(self, service, **arguments):
        with contextlib.suppress(REFUSED):
            service(**arguments)
        self._observe()

    def _observe(self):
        """Record which lines were filled from a run or a recount in this step (their
        backordered pairs went down as allocated went up) and since when each waits."""
        self.step += 1
        lines = {
            row[0]: row
            for row in OrderLine.objects.filter(sku__in=self.skus).values_list(
                "pk", "sku_id", "order__placed_at", "backordered", "allocated"
            )
        }
        previous = getattr(self, "_lines", {})
        for line_id, (_, sku_id, placed_at, backordered, allocated) in lines.items():
            before = previous.get(line_id)
            if before and backordered < before[3] and allocated > before[4]:
                self.filled.append((line_id, sku_id, self.warehouse.pk, placed_at, self.step))
            if backordered == 0:
                self.waiting_since.pop(line_id, None)
            else:
                self.waiting_since.setdefault(line_id, self.step)
        self._lines = lines

    @staticmethod
    def _today():
        return timezone.localdate()

    def _run(self, index):
        return InboundRun.objects.get(pk=self.runs[index].pk)

    def _accounts(self):
        return [account for account, _ in self.accounts]

    def _buyer(self, account_id):
        return next(buyer for account, buyer in self.accounts if account.pk == account_id)

    @staticmethod
    def _pick(queryset, index):
        rows = list(queryset.order_by("pk"))
        return rows[index % len(rows)] if rows else None


@pytest.mark.django_db
def test_the_ledger_holds_under_any_sequence_of_events(monkeypatch, terms):
    monkeypatch.setattr("notifications.services.delivery_kick", lambda ids: 0)
    terms.opening_order_minimum = 0
    terms.fill_in_minimum_pairs = 1
    terms.save(update_fields=["opening_order_minimum", "fill_in_minimum_pairs"])
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=6,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
