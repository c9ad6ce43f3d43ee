"""One season, day by day, on a simulated clock. Every change goes through the public
services a store, the warehouse, the planner or the scheduler would call; the simulator
only decides who does what when (from the scenario and the seed) and observes."""

import datetime as dt
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field

import time_machine
from django.conf import settings
from django.db.models import F
from django.utils import timezone

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
from inventory.models import InboundRun, Replenishment, StockLevel
from inventory.selectors import ats_by_sku
from notifications.services import outbox_sweep
from orders.exceptions import OrderInputError, OrderNotAllowed
from orders.models import Invoice, Order, OrderLine
from orders.services import LineRequest, order_place
from orders.services.cart import cart_lines_add, cart_submit
from orders.services.fulfilment import payment_record, shipment_confirm
from portal.simulation.observe import Observer
from portal.simulation.world import (
    LEAD_DAYS,
    PART_GAP_DAYS,
    RUN_EVERY_DAYS,
    World,
    business_day,
    rng_for,
    run_book,
    slip_draw,
)

OPENING_HOUR = 8
OVERDUE_MINUTE = -120  # the overdue-run job runs at 06:00 every day, as scheduled


@dataclass
class RunPlan:
    """What the factory will really do with a run (drawn when it is booked)."""

    run_id: int
    booked_eta: dt.date
    arrival: dt.date | None  # None: cancelled
    announce_on: dt.date | None = None  # the factory warns of the slip on this day
    cancel_on: dt.date | None = None
    parts: list = field(default_factory=list)  # [(day, [sku codes] or None for the rest)]


class Season:
    def __init__(self, world: World, *, weeks: int, progress=None, meter=None):
        self.world = world
        self.meter = meter  # a CostMeter, when the season's cost is measured
        self.weeks = weeks
        self.days = weeks * 7
        self.end = world.start + dt.timedelta(days=self.days - 1)
        self.progress = progress
        self.plans: dict[int, RunPlan] = {}
        self.events = defaultdict(list)  # day -> [(kind, run id, payload)]
        self.run_numbers = defaultdict(int)
        self.factory_rng = rng_for(world.seed, "factories")
        self.demand_rng = rng_for(world.seed, "demand")
        self.count_rng = rng_for(world.seed, "counts")
        self.decision_rng = rng_for(world.seed, "decisions")
        self.observer = Observer(world)
        self.order_number = 0

    # --- the clock ----------------------------------------------------------------

    def _at(self, traveller, day: dt.date, minute: int):
        moment = dt.datetime.combine(day, dt.time(OPENING_HOUR)) + dt.timedelta(minutes=minute)
        traveller.move_to(timezone.make_aware(moment))

    def _phase(self, name: str):
        return self.meter.phase_of(name) if self.meter else nullcontext()

    def run(self) -> Observer:
        # Midnight of the first day: the preseason bookings come before the first 06:00.
        first = timezone.make_aware(dt.datetime.combine(self.world.start, dt.time(0)))
        with (
            time_machine.travel(first, tick=False) as traveller,
            self.meter.counting() if self.meter else nullcontext(),
        ):
            self._preseason_book()
            for offset in range(self.days):
                self.day(traveller, self.world.start + dt.timedelta(days=offset))
                if self.progress is not None:
                    self.progress.update(1)
        return self.observer

    def day(self, traveller, today: dt.date):
        business = today.weekday() < 5
        self._at(traveller, today, OVERDUE_MINUTE)
        overdue_runs_check(today=today)
        self._deliver()
        self._at(traveller, today, 0)
        if business:
            with self._phase("shipping"):
                self._ship(today)  # yesterday's allocations leave in the morning
            with self._phase("payments"):
                self._pay(today)
        self._at(traveller, today, 60)
        with self._phase("factories"):
            for kind, run_id, payload in self.events.pop(today, []):
                getattr(self, f"_factory_{kind}")(today, run_id, payload)
        if business:
            self._at(traveller, today, 120)
            with self._phase("bookings"):
                self._book(today)
            self._at(traveller, today, 180)
            with self._phase("placing"):
                self._order(traveller, today)
            self._at(traveller, today, 480)
            with self._phase("decisions"):
                self._decide(today)
            if today.weekday() == 2:
                with self._phase("cycle counts"):
                    self._count(today)
        self._at(traveller, today, 900)
        decision_expire(today=today)
        backorder_sweep_all(today=today)
        self._deliver()
        self._at(traveller, today, 1000)
        with self._phase("observing"):
            self.observer.observe(today)

    def _deliver(self):
        with self._phase("outbox"):
            while outbox_sweep(limit=500):
                pass

    # --- the factories and the planner ---------------------------------------------

    def _preseason_book(self):
        """Runs booked before the season, their ETAs spread over its first weeks."""
        committed = [s for s in self.world.styles if s.replenishment == Replenishment.COMMITTED]
        for index, style in enumerate(committed):
            first_eta = self.world.start + dt.timedelta(days=3 + (index * 5) % RUN_EVERY_DAYS)
            eta = first_eta
            while eta < self.world.start + dt.timedelta(days=LEAD_DAYS):
                self._book_run(style, booked=self.world.start, eta=business_day(eta))
                eta += dt.timedelta(days=RUN_EVERY_DAYS)

    def _book(self, today: dt.date):
        """Each style is re-booked on its cadence, LEAD_DAYS ahead."""
        offset = (today - self.world.start).days
        for index, style in enumerate(self.world.styles):
            if style.replenishment != Replenishment.COMMITTED:
                continue
            if (offset + index * 5) % RUN_EVERY_DAYS == 0:
                self._book_run(
                    style, booked=today, eta=business_day(today + dt.timedelta(days=LEAD_DAYS))
                )

    def _book_run(self, style, *, booked: dt.date, eta: dt.date):
        self.run_numbers[style.pk] += 1
        run = run_book(
            self.world, style=style, booked=booked, eta=eta, number=self.run_numbers[style.pk]
        )
        rng, scenario = self.factory_rng, self.world.scenario
        _, scale = self.world.factory_of[style.pk]
        if rng.random() < scenario.cancel_share:
            cancel_on = max(
                booked + dt.timedelta(days=1), eta - dt.timedelta(days=rng.randint(5, 20))
            )
            plan = RunPlan(run.pk, eta, None, cancel_on=cancel_on)
            self.events[cancel_on].append(("cancel", run.pk, None))
            self.plans[run.pk] = plan
            return
        arrival = business_day(eta + dt.timedelta(days=slip_draw(rng, scenario, scale)))
        arrival = max(arrival, business_day(booked + dt.timedelta(days=1)))
        plan = RunPlan(run.pk, eta, arrival)
        if arrival > eta and rng.random() < scenario.announced_share:
            plan.announce_on = max(
                booked + dt.timedelta(days=1), eta - dt.timedelta(days=rng.randint(2, 10))
            )
            self.events[plan.announce_on].append(("announce", run.pk, arrival))
        codes = sorted(sku.code for sku in self.world.skus_by_style[style.pk])
        if rng.random() < scenario.partial_share:
            half = codes[: len(codes) // 2]
            later = business_day(arrival + dt.timedelta(days=rng.randint(*PART_GAP_DAYS)))
            self.events[arrival].append(("receive", run.pk, half))
            self.events[later].append(("receive", run.pk, None))
        else:
            self.events[arrival].append(("receive", run.pk, None))
        self.plans[run.pk] = plan

    def _factory_announce(self, today, run_id, new_eta):
        run = InboundRun.objects.get(pk=run_id)
        if run.is_open and new_eta != run.eta and new_eta > today:
            eta_change(
                run=run,
                new_eta=new_eta,
                reason="The factory reports a delay.",
                user=self.world.planner,
                today=today,
            )

    def _factory_cancel(self, today, run_id, _payload):
        run = InboundRun.objects.get(pk=run_id)
        if run.is_open:
            run_cancel(
                run=run,
                reason="The factory cancelled the run.",
                user=self.world.planner,
                today=today,
            )

    def _factory_receive(self, today, run_id, codes):
        run = InboundRun.objects.get(pk=run_id)
        if not run.is_open:
            return
        lines = None
        if codes is not None:
            outstanding = dict(
                run.lines.filter(sku__code__in=codes, received__lt=F("quantity")).values_list(
                    "sku__code", "quantity"
                )
            )
            lines = [
                ReceiveRequest(code, quantity) for code, quantity in sorted(outstanding.items())
            ]
            if not lines:
                return
        run_receive(
            run=run,
            user=self.world.integration,
            lines=lines,
            key=f"sim:{run.reference}:{today.isoformat()}",
            today=today,
        )

    # --- the stores ----------------------------------------------------------------

    def _demand(self, store, sku, pairs, today) -> int:
        week = (today - self.world.start).days // 7
        if sku.style_id in self.world.breakouts and week >= self.weeks // 3:
            pairs = round(pairs * self.world.scenario.breakout_factor)
        return max(0, pairs + self.demand_rng.choice((-1, 0, 0, 0, 1)))

    def _order(self, traveller, today):
        for index, store in enumerate(self.world.stores):
            if store.weekday != today.weekday():
                continue
            lines = {sku.code: self._demand(store, sku, pairs, today) for sku, pairs in store.core}
            lines = {code: pairs for code, pairs in lines.items() if pairs}
            total = sum(lines.values())
            if total < self.world.terms.fill_in_minimum_pairs and lines:
                code = min(lines)
                lines[code] += self.world.terms.fill_in_minimum_pairs - total
            if not lines:
                continue
            self._at(traveller, today, 180 + index % 240)
            requests = [LineRequest(code, pairs) for code, pairs in sorted(lines.items())]
            self._place(store, requests, today, through_cart=index % 4 == 0)

    def _place(self, store, requests, today, *, through_cart: bool):
        error = self._order_try(store, requests, today, through_cart=through_cart)
        if error is not None and (top_up := self._top_up(store, requests, error)):
            # As a buyer told the order is under the fill-in minimum does: adds pairs
            # that are in stock now and sends it again (a cart keeps what it held).
            if through_cart:
                retried = [LineRequest(code, pairs) for code, pairs in top_up.items()]
            else:
                merged = {line.sku: line.quantity for line in requests}
                for code, pairs in top_up.items():
                    merged[code] = merged.get(code, 0) + pairs
                retried = [LineRequest(code, pairs) for code, pairs in sorted(merged.items())]
            error = self._order_try(store, retried, today, through_cart=through_cart)
        if error is not None:
            self.observer.refused(store, error)

    def _order_try(self, store, requests, today, *, through_cart: bool):
        """Place the order; the error that refused it, or None."""
        self.order_number += 1
        po = f"PO-{today:%y%m%d}-{self.order_number:05d}"
        policy = "allow" if store.account.accepts_backorders else "none"
        try:
            if through_cart:
                cart_lines_add(user=store.buyer, account=store.account, lines=requests)
                result = cart_submit(
                    user=store.buyer,
                    account=store.account,
                    po_number=po,
                    backorder_policy=policy,
                    idempotency_key=po,
                )
            else:
                result = order_place(
                    account=store.account,
                    user=store.buyer,
                    lines=requests,
                    po_number=po,
                    backorder_policy=policy,
                    source="api",
                    idempotency_key=po,
                )
        except (OrderInputError, OrderNotAllowed) as error:
            return error
        self.observer.placed(result.order, today)
        return None

    def _top_up(self, store, requests, error) -> dict[str, int]:
        """{SKU code: pairs} to add from the core list's SKUs in stock, most in stock
        first, so that the order's pairs in stock reach the fill-in minimum; empty when
        the order was refused for anything else or the stock is not there."""
        if not isinstance(error, OrderInputError) or set(error.message_dict) != {"lines"}:
            return {}
        skus = {sku.code: sku for sku, _ in store.core}
        asked = {line.sku: line.quantity for line in requests}
        ats = ats_by_sku(sku_ids=[sku.pk for sku in skus.values()])
        in_stock = sum(min(pairs, ats.get(skus[code].pk, 0)) for code, pairs in asked.items())
        short = self.world.terms.fill_in_minimum_pairs - in_stock
        spare = sorted(
            ((ats[sku.pk] - asked.get(code, 0), code) for code, sku in skus.items()),
            key=lambda item: (-item[0], item[1]),
        )
        top_up = {}
        for pairs, code in spare:
            if short <= 0 or pairs <= 0:
                break
            top_up[code] = min(pairs, short)
            short -= top_up[code]
        return top_up if short <= 0 else {}

    def _decide(self, today):
        rng = self.decision_rng
        by_account = {store.account.pk: store for store in self.world.stores}
        pending = (
            # A request whose line was filled meanwhile has nothing left to answer.
            DecisionRequest.objects.filter(status=DecisionStatus.PENDING, line__backordered__gt=0)
            .select_related("line__order")
            .order_by("pk")
        )
        for request in pending:
            store = by_account[request.line.order.account_id]
            asked = timezone.localdate(request.created_at)
            wait = {"now": 0, "late": 3, "never": None}[store.habit]
            if wait is None or (today - asked).days < wait or request.deadline < today:
                continue
            action = "keep" if rng.random() < store.keeps else "cancel"
            backorder_decide(
                line=request.line,
                action=action,
                user=store.buyer,
                decision_request=request,
                today=today,
            )

    # --- the warehouse -------------------------------------------------------------

    def _ship(self, today):
        open_lines = (
            OrderLine.objects.filter(allocated__gt=0)
            .values_list("order_id", "sku__code", "allocated")
            .order_by("order_id", "pk")
        )
        by_order = defaultdict(list)
        for order_id, code, allocated in open_lines:
            by_order[order_id].append({"sku": code, "quantity": allocated})
        # An order on credit hold waits for customer service; the warehouse skips it.
        orders = Order.objects.shippable().in_bulk(list(by_order))
        for order_id, lines in by_order.items():
            if order_id not in orders:
                continue
            shipment_confirm(
                order=orders[order_id],
                carrier="UPS",
                tracking=f"1ZSIM{order_id:07d}{today:%m%d}",
                lines=lines,
                user=self.world.integration,
                shipped_at=timezone.now(),
            )

    def _pay(self, today):
        """The stores pay each invoice on its due date (one that did not would see its
        next orders go on credit hold)."""
        for invoice in Invoice.objects.unsettled().filter(due_on__lte=today).with_balance():
            payment_record(invoice=invoice, amount=invoice.balance, received_on=today)

    def _count(self, today):
        """The weekly cycle count finds some SKUs short."""
        rng = self.count_rng
        levels = list(
            StockLevel.objects.filter(warehouse=self.world.warehouse, on_hand__gt=0)
            .order_by("sku__code")
            .values_list("sku__code", "on_hand")
        )
        short = [
            (code, on_hand)
            for code, on_hand in levels
            if rng.random() < self.world.scenario.shortage_share
        ]
        if short:
            counts = [
                StockCountRequest(
                    sku=code,
                    on_hand=max(on_hand - rng.randint(1, 4), 0),
                    warehouse=self.world.warehouse.code,
                )
                for code, on_hand in short
            ]
            stock_sync(counts=counts, user=self.world.integration, today=today)


def season_settings():
    """What the command changes in its own process, before anything is queued: mail goes
    nowhere and tasks stay in memory (the outbox sweep delivers), so no real inbox or
    broker is touched."""
    from portal.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    app.conf.broker_url = "memory://"
    app.conf.task_always_eager = False


def season_simulate(
    *, seed: int, scenario, weeks: int, stores: int, percentile: int, progress=None, meter=None
) -> dict:
    """Build the world and run the season in the current database; the mode's figures
    (`meter`: a CostMeter that counts the season's statements and CPU)."""
    from backorders.promise_report import promise_figures
    from portal.simulation.world import world_build

    world = world_build(seed=seed, scenario=scenario, stores=stores, percentile=percentile)
    season = Season(world, weeks=weeks, progress=progress, meter=meter)
    observer = season.run()
    figures = promise_figures(since=world.start, until=season.end).as_dict()
    figures.update(observer.figures())
    return figures
