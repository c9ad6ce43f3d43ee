"""The simulated brand at the start of the season: catalogue, one warehouse, factories
with their past record, the production calendar, stores with their core lists, and the
staff who act for the brand. Seed data only: everything after day 0 goes through the
services."""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

from backorders.services import StockCountRequest, stock_sync
from inventory.models import SKU, InboundRun, InboundStatus, Replenishment, Style, Warehouse
from inventory.services import InboundLineInput, inbound_run_upsert
from notifications.models import DeliveryMode
from notifications.services import PreferenceChoice, preferences_update
from orders.models import (
    Account,
    CommercialTerms,
    DecisionDefault,
    Membership,
    MembershipRole,
    ShipTo,
)
from portal.simulation.scenarios import FACTORIES, Scenario

SEASON_START = dt.date(2027, 2, 1)  # a Monday; nothing depends on the wall clock
STYLES = 12  # committed to re-production
SEASONAL_STYLES = 2  # sold from stock only
COLORS = ("Black", "Walnut")
SIZES = ("6.0", "7.0", "8.0", "9.0", "10.0", "11.0")
LEAD_DAYS = 49  # booking to the ETA the factory gives
RUN_EVERY_DAYS = 21  # each style's re-production cadence
HISTORY_RUNS = 10  # received runs per factory before the season
HISTORY_EVERY_DAYS = 30  # days between their ETAs
PART_GAP_DAYS = (2, 6)  # days between the two parts of a run received in parts
CORE_SKUS = (3, 6)  # SKUs on a store's core list
PRICE = Decimal("42.00")
QUIET_KINDS = tuple(
    PreferenceChoice(kind, enabled=False, mode=DeliveryMode.IMMEDIATE)
    for kind in ("order_confirmation", "shipment", "invoice")
)


def rng_for(seed: int, section: str) -> random.Random:
    """One stream per subject, so both promise modes draw the same season."""
    return random.Random(f"{seed}:{section}")


def business_day(day: dt.date) -> dt.date:
    """The day, or the Monday after it: factories deliver on business days."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def slip_draw(rng: random.Random, scenario: Scenario, scale: float) -> int:
    """Days a run arrives after the ETA it was booked with (negative = early)."""
    if rng.random() < scenario.on_time_share:
        return -rng.randint(1, 5) if rng.random() < scenario.early_share else 0
    return max(1, round(rng.randint(*scenario.slip_days) * scale))


@dataclass
class Store:
    account: Account
    buyer: object
    weekday: int  # the day of the week it reorders its core list
    core: list  # [(sku, weekly pairs)]
    habit: str  # "now" | "late" | "never": how it answers decision requests
    keeps: float  # share of decision requests it answers "keep"


@dataclass
class World:
    seed: int
    scenario: Scenario
    start: dt.date
    terms: CommercialTerms
    warehouse: Warehouse
    planner: object
    integration: object
    styles: list
    skus_by_style: dict
    factory_of: dict  # style id -> (factory name, slip scale)
    stores: list
    breakouts: set  # style ids that break out mid-season
    weekly_demand: dict = field(default_factory=dict)  # sku id -> pairs a week, as planned


def world_build(*, seed: int, scenario: Scenario, stores: int, percentile: int) -> World:
    """`percentile`: the terms' promise slip percentile (0: naive promises)."""
    start = SEASON_START
    terms = CommercialTerms.objects.create(
        version=1,
        effective_from=dt.datetime(start.year - 1, 1, 1, tzinfo=dt.UTC),
        opening_order_minimum=Decimal("0.00"),
        promise_slip_percentile=percentile,
        promise_default_buffer_days=7,
        note="Season simulator terms.",
    )
    warehouse = Warehouse.objects.create(code="MAIN", name="Main warehouse", is_default=True)
    User = get_user_model()
    planner = User.objects.create(email="planner@sim.example", full_name="Planner", is_staff=True)
    integration = User.objects.create(
        email="integration@sim.example", full_name="Warehouse feed", is_staff=True
    )
    styles, skus_by_style, factory_of = _catalogue_build()
    world = World(
        seed=seed,
        scenario=scenario,
        start=start,
        terms=terms,
        warehouse=warehouse,
        planner=planner,
        integration=integration,
        styles=styles,
        skus_by_style=skus_by_style,
        factory_of=factory_of,
        stores=[],
        breakouts=set(),
    )
    world.stores = _stores_build(world, count=stores)
    committed = [style for style in styles if style.replenishment == Replenishment.COMMITTED]
    world.breakouts = {
        style.pk
        for style in rng_for(seed, "breakouts").sample(committed, k=max(1, len(committed) // 6))
    }
    for store in world.stores:
        for sku, pairs in store.core:
            world.weekly_demand[sku.pk] = world.weekly_demand.get(sku.pk, 0) + pairs
    _history_build(world)
    _opening_stock(world)
    return world


def _catalogue_build():
    styles, skus_by_style, factory_of = [], {}, {}
    for index in range(STYLES + SEASONAL_STYLES):
        style = Style.objects.create(
            number=f"S{index + 1:03d}",
            name=f"Simulated style {index + 1}",
            category="Sneakers",
            replenishment=Replenishment.COMMITTED if index < STYLES else Replenishment.SEASONAL,
            lead_time_days=LEAD_DAYS,
        )
        styles.append(style)
        factory_of[style.pk] = FACTORIES[index % len(FACTORIES)]
        skus = [
            SKU(
                code=f"{style.number}-{color[:3].upper()}-{size.replace('.', '')}",
                style=style,
                color=color,
                size=Decimal(size),
                upc=f"{9_000_000_0000 + index * 100 + c * 10 + s:012d}",
                price=PRICE,
                msrp=PRICE * 2,
                core=True,
            )
            for c, color in enumerate(COLORS)
            for s, size in enumerate(SIZES)
        ]
        skus_by_style[style.pk] = SKU.objects.bulk_create(skus)
    return styles, skus_by_style, factory_of


def _stores_build(world: World, *, count: int) -> list[Store]:
    rng = rng_for(world.seed, "stores")
    User = get_user_model()
    all_skus = [sku for skus in world.skus_by_style.values() for sku in skus]
    stores = []
    for index in range(count):
        account = Account.objects.create(
            number=f"SIM{index + 1:04d}",
            name=f"Store {index + 1:03d}",
            accepts_backorders=rng.random() > 0.05,
            decision_default=rng.choice([DecisionDefault.KEEP, DecisionDefault.CANCEL]),
        )
        ShipTo.objects.create(
            account=account,
            label="Store",
            line1=f"{index + 1} Main Street",
            city="Burlington",
            region="VT",
            postal_code="05401",
            is_default=True,
        )
        buyer = User.objects.create(
            email=f"buyer@store-{index + 1:03d}.sim.example", full_name=f"Buyer {index + 1}"
        )
        Membership.objects.create(user=buyer, account=account, role=MembershipRole.BUYER)
        # Confirmations, shipments and invoices are read in the portal, not by email.
        preferences_update(user=buyer, choices=QUIET_KINDS)
        core = [
            (sku, rng.choice((1, 1, 2, 2, 3)))
            for sku in rng.sample(all_skus, k=rng.randint(*CORE_SKUS))
        ]
        habit = rng.choices(
            ("now", "late", "never"),
            weights=(
                world.scenario.decide_now,
                world.scenario.decide_late,
                1 - world.scenario.decide_now - world.scenario.decide_late,
            ),
        )[0]
        stores.append(Store(account, buyer, index % 5, core, habit, rng.uniform(0.4, 0.9)))
    return stores


def _history_build(world: World) -> None:
    """Each factory's record before the season: runs received in the past year."""
    rng = rng_for(world.seed, "history")
    rows = []
    for name, scale in FACTORIES:
        for index in range(HISTORY_RUNS):
            eta = business_day(world.start - dt.timedelta(days=HISTORY_EVERY_DAYS * (index + 1)))
            # Received as the season's runs are: on a business day, and a run received in
            # parts counts from its last part (as the record counts it).
            arrived = business_day(eta + dt.timedelta(days=slip_draw(rng, world.scenario, scale)))
            if rng.random() < world.scenario.partial_share:
                arrived = business_day(arrived + dt.timedelta(days=rng.randint(*PART_GAP_DAYS)))
            rows.append(
                InboundRun(
                    reference=f"HIST-{name[:4].upper()}-{index + 1:02d}",
                    factory=name,
                    warehouse=world.warehouse,
                    status=InboundStatus.RECEIVED,
                    eta=eta,
                    arrived_on=arrived,
                )
            )
    InboundRun.objects.bulk_create(rows)


def _opening_stock(world: World) -> None:
    """A week and a half of planned demand on hand (through the warehouse count feed):
    the season opens on what is left of the last one."""
    counts = [
        StockCountRequest(
            sku=sku.code,
            on_hand=world.weekly_demand.get(sku.pk, 0) * 3 // 2 + 1,
            warehouse=world.warehouse.code,
        )
        for skus in world.skus_by_style.values()
        for sku in skus
    ]
    stock_sync(counts=counts, user=world.integration, today=world.start)


def run_book(world: World, *, style: Style, booked: dt.date, eta: dt.date, number: int):
    """The planner books a run: three weeks of the style's planned demand."""
    factory, _ = world.factory_of[style.pk]
    lines = [
        InboundLineInput(sku.code, max(world.weekly_demand.get(sku.pk, 0) * RUN_EVERY_DAYS // 7, 2))
        for sku in world.skus_by_style[style.pk]
    ]
    return inbound_run_upsert(
        reference=f"{style.number}-R{number:02d}",
        eta=eta,
        lines=lines,
        status=InboundStatus.CONFIRMED,
        factory=factory,
        warehouse=world.warehouse.code,
    ).run
