"""Deterministic demo data for the Trailwise wholesale portal (`manage.py seed_demo`).

Everything is planned from seeded `random.Random` streams (one per section, so a change
in one section does not reshuffle the others) and dates relative to today. Each section
inserts only what is missing, keyed by natural keys (emails, style numbers, SKU codes,
run references, account numbers); the order history is written only into a database
that has no orders yet. A second run therefore changes nothing.

The open orders are simulated against the stock and the production calendar in the
order they were placed, so the seeded data obeys the invariants in DESIGN.md:
allocations are Allocation rows summed into StockLevel.allocated, backorders are
pegged (oldest first) to inbound lines of committed styles whose run arrives inside
the line's window, and InboundLine.promised is the sum of its pegs.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from inventory.models import (
    OPEN_INBOUND_STATUSES,
    SKU,
    EtaChange,
    Gender,
    InboundLine,
    InboundRun,
    InboundStatus,
    PriceList,
    PriceListItem,
    Replenishment,
    Season,
    StockLevel,
    Style,
    Warehouse,
    Width,
)
from orders import ledger
from orders.models import (
    Account,
    Allocation,
    BackorderPeg,
    CommercialTerms,
    CreditStatus,
    DecisionDefault,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Membership,
    MembershipRole,
    Order,
    OrderLine,
    OrderSource,
    Payment,
    PriceListAssignment,
    Shipment,
    ShipmentLine,
    ShipTo,
)
from portal.demo_pictures import demo_pictures_ensure
from portal.roles import StaffRole, staff_groups_ensure

DEMO_PASSWORD = "trailwise-demo-2026"
SEED = "trailwise-2026"
BATCH = 5000

# Numbers follow the services: orders are "SO-" + (100000 + pk) (orders.services.ordering);
# shipments and invoices come from DocumentSequence rows, formatted "<prefix>-%06d".
ORDER_NUMBER_BASE = 100000
SHIPMENT_NUMBER_START = 300000
INVOICE_NUMBER_START = 200000

STYLES_PER_SCALE = 44
ACCOUNTS_PER_SCALE = 25
REPS_PER_SCALE = 3

CENT = Decimal("0.01")

# --------------------------------------------------------------------------- reference data
# fmt: off

CATEGORIES = {
    # category: (style names, wholesale price range, widths offered, weight in the line)
    "Sneakers": (["Trail Walker", "Court Sneaker", "Knit Runner", "Slip-On Sneaker",
                  "Cloud Trainer", "Lace-Up Walker"],
                 (56, 74), [(2,), (1, 2, 3), (2, 3, 4), (1, 2, 3, 4)], 9),
    "Sandals": (["Footbed Sandal", "Sport Sandal", "Two-Strap Slide", "Wedge Sandal",
                 "Thong Sandal", "Backstrap Sandal"], (38, 54), [(2,), (2, 3)], 8),
    "Clogs": (["Clog", "Garden Clog", "Pro Clog", "Open-Back Mule"], (54, 70), [(2,), (2, 3)], 5),
    "Boots": (["Chelsea Boot", "Hiker", "Ankle Boot", "Duck Boot", "Lace-Up Boot", "Zip Bootie"],
              (78, 112), [(2, 3), (1, 2, 3), (2, 3, 4)], 7),
    "Loafers": (["Penny Loafer", "Driving Moc", "Slip-On Loafer", "Tassel Loafer"], (62, 80),
                [(2, 3), (1, 2, 3)], 5),
    "Flats": (["Ballet Flat", "Mary Jane", "Skimmer", "Pointed Flat"], (46, 60),
              [(2,), (1, 2, 3), (2, 3)], 5),
    "Slippers": (["Shearling Slipper", "Moc Slipper", "Scuff", "Bootie Slipper"], (28, 40),
                 [(2,)], 4),
}

MODEL_NAMES = [
    "Cascade", "Juniper", "Sequoia", "Aspen", "Willow", "Cedar", "Sierra", "Tahoe", "Redwood",
    "Olympia", "Shasta", "Marin", "Birch", "Harbor", "Meadow", "Ridge", "Canyon", "Bramble",
    "Hazel", "Fern", "Laurel", "Sage", "Alder", "Larkspur", "Mesa", "Pinecrest", "Summit",
    "Brook", "Heather", "Glacier", "Timber", "Clover", "Maple", "Wren", "Sparrow", "Solstice",
    "Driftwood", "Coastline", "Prairie", "Quarry", "Tamarack", "Basalt", "Kestrel", "Halcyon",
]

# The line's seasons, oldest first: styles are spread over them by number.
SEASONS = [
    ("FW25", "Fall/Winter 2025", dt.date(2025, 7, 1)),
    ("SS26", "Spring/Summer 2026", dt.date(2026, 1, 5)),
    ("FW26", "Fall/Winter 2026", dt.date(2026, 7, 1)),
]

COLOURS = [
    ("Black", "BLK"), ("Espresso", "ESP"), ("Cognac", "COG"), ("Navy", "NVY"), ("Stone", "STN"),
    ("Sage", "SAG"), ("Charcoal", "CHR"), ("Taupe", "TAU"), ("Oxblood", "OXB"), ("Sand", "SND"),
    ("Olive", "OLV"), ("Grey Heather", "GRH"), ("White", "WHT"), ("Blush", "BLS"),
    ("Denim", "DNM"), ("Rust", "RST"),
]

WOMENS_SIZES = [Decimal(n) / 2 for n in range(10, 25)]  # 5 to 12 with halves
MENS_SIZES = [Decimal(n) / 2 for n in range(14, 25)] + [Decimal(13)]  # 7 to 12 with halves, 13

FACTORIES = [
    ("DGC", "Dongguan Comfort Footwear Co."),
    ("GSW", "Guimarães Shoe Works"),
    ("LCS", "León Calzado S.A."),
    ("HSF", "Hai Phong Stepwell Factory"),
]

# (store name, street, town, state, zip); the first two share an owner.
STORES = [
    ("Alpine Soles", "1740 Pearl Street", "Boulder", "CO", "80302"),
    ("Alpine Soles Outpost", "205 Elkhorn Avenue", "Estes Park", "CO", "80517"),
    ("Happy Feet Comfort Shoes", "47 Haywood Street", "Asheville", "NC", "28801"),
    ("Main Street Shoe Co.", "12 East Main Street", "Bozeman", "MT", "59715"),
    ("Good Footing", "381 Church Street", "Burlington", "VT", "05401"),
    ("The Sole Proprietor", "88 Front Street", "Traverse City", "MI", "49684"),
    ("Harbor Shoe Outfitters", "19 Commercial Street", "Portland", "ME", "04101"),
    ("Well Heeled Comfort", "610 Congress Avenue", "Austin", "TX", "78701"),
    ("Cobblestone Footwear", "23 Market Square", "Portsmouth", "NH", "03801"),
    ("Two Rivers Shoes", "140 State Street", "Madison", "WI", "53703"),
    ("Walkabout Shoe Shop", "302 Main Street", "Park City", "UT", "84060"),
    ("Footloose Comfort Shoes", "915 Pacific Avenue", "Santa Cruz", "CA", "95060"),
    ("Prairie Step", "410 Massachusetts Street", "Lawrence", "KS", "66044"),
    ("Sound Feet", "1520 Commercial Avenue", "Anacortes", "WA", "98221"),
    ("Blue Ridge Footwear", "104 West Main Street", "Charlottesville", "VA", "22902"),
    ("Lakeside Shoe Company", "221 Sherman Avenue", "Coeur d'Alene", "ID", "83814"),
    ("Stride & Co.", "78 Main Street", "Northampton", "MA", "01060"),
    ("The Comfort Shoe Bar", "155 North Main Street", "Ann Arbor", "MI", "48104"),
    ("Desert Sole", "33 Palace Avenue", "Santa Fe", "NM", "87501"),
    ("Kettle Moraine Shoes", "612 Wisconsin Avenue", "Cedarburg", "WI", "53012"),
    ("High Country Footwear", "120 South Main Street", "Moab", "UT", "84532"),
    ("Bayside Comfort Footwear", "44 Water Street", "Eastport", "ME", "04631"),
    ("Heel & Toe Shoe Shop", "207 Broad Street", "Lake Geneva", "WI", "53147"),
    ("Riverbend Shoes", "415 Main Street", "Hood River", "OR", "97031"),
    ("Green Mountain Soles", "66 Main Street", "Stowe", "VT", "05672"),
]

TOWNS = [
    ("Bend", "OR", "97701"), ("Missoula", "MT", "59802"), ("Durango", "CO", "81301"),
    ("Ithaca", "NY", "14850"), ("Marquette", "MI", "49855"), ("Flagstaff", "AZ", "86001"),
    ("Duluth", "MN", "55802"), ("Lexington", "KY", "40507"), ("Sandpoint", "ID", "83864"),
    ("Brattleboro", "VT", "05301"), ("Savannah", "GA", "31401"), ("Bellingham", "WA", "98225"),
    ("Taos", "NM", "87571"), ("Galena", "IL", "61036"), ("Fredericksburg", "TX", "78624"),
    ("Boone", "NC", "28607"), ("Camden", "ME", "04843"), ("Lancaster", "PA", "17602"),
    ("Ketchum", "ID", "83340"), ("Petoskey", "MI", "49770"), ("Sonoma", "CA", "95476"),
    ("Staunton", "VA", "24401"), ("Decorah", "IA", "52101"), ("Hanover", "NH", "03755"),
    ("Saratoga Springs", "NY", "12866"), ("Eureka Springs", "AR", "72632"),
    ("Lewes", "DE", "19958"), ("Whitefish", "MT", "59937"), ("Ashland", "OR", "97520"),
    ("Oxford", "MS", "38655"),
]
STORE_SUFFIXES = ["Comfort Shoes", "Shoe Co.", "Footwear", "Shoe Shop", "Soles", "Walking Shoes"]
STREETS = ["Main Street", "Front Street", "Market Street", "Broadway", "Water Street",
           "Church Street", "Mill Street", "Elm Street", "College Avenue", "Depot Street"]
FIRST_NAMES = ["Maya", "Daniel", "Priya", "Tom", "Elena", "Marcus", "Grace", "Luis", "Hannah",
               "Owen", "Sofia", "Caleb", "Naomi", "Ben", "Rosa", "Ethan", "Leah", "Sam", "Ivy",
               "Noah", "Claire", "Jonah", "Ana", "Will"]
LAST_NAMES = ["Whitaker", "Okafor", "Lindqvist", "Moreno", "Castellano", "Brennan", "Nakamura",
              "Fischer", "Delgado", "Hartley", "Abernathy", "Kowalski", "Sato", "McAllister",
              "Reyes", "Osei", "Bergstrom", "Quinn", "Patel", "Holloway"]
CARRIERS = ["UPS", "FedEx", "USPS"]
SLIP_REASONS = [
    "Vessel rolled to the next sailing at Yantian",
    "Outsole tooling repair at the factory",
    "Port congestion at Long Beach",
    "Leather delivery to the factory was late",
]

STAFF = [
    # (email, full name, role group or None, is_staff, is_superuser)
    ("admin@trailwise.example", "Avery Admin", None, True, True),
    ("agent@trailwise.example", "Casey Morgan", StaffRole.CS_AGENT, True, False),
    ("lead@trailwise.example", "Jordan Ellis", StaffRole.CS_LEAD, True, False),
    ("planner@trailwise.example", "Riley Chen", StaffRole.PLANNER, True, False),
    ("integration@trailwise.example", "ERP integration", StaffRole.INTEGRATION, False, False),
]

# fmt: on


# --------------------------------------------------------------------------- small helpers


def upc_check_digit(payload: str) -> int:
    """UPC-A check digit for 11 digits: odd positions count three times."""
    odd = sum(int(d) for d in payload[0::2])
    even = sum(int(d) for d in payload[1::2])
    return (10 - (odd * 3 + even) % 10) % 10


def upc_for(n: int) -> str:
    payload = f"86{n:09d}"
    return f"{payload}{upc_check_digit(payload)}"


@functools.lru_cache(maxsize=4096)
def add_business_days(start: dt.date, days: int) -> dt.date:
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    while current.weekday() >= 5:
        current += dt.timedelta(days=1)
    return current


def _rng(section: str) -> random.Random:
    return random.Random(f"{SEED}:{section}")


def _chunks(items: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bulk(model, objs: list, progress, **kwargs) -> list:
    """bulk_create in batches, ticking the progress bar; returns the objects with pks."""
    for chunk in _chunks(objs):
        model.objects.bulk_create(chunk, batch_size=BATCH, **kwargs)
        progress.update(len(chunk))
    return objs


def _aware(day: dt.date, rng: random.Random) -> dt.datetime:
    moment = dt.datetime.combine(day, dt.time(rng.randint(7, 18), rng.randint(0, 59)))
    return timezone.make_aware(moment)


# --------------------------------------------------------------------------- the plan


@dataclass
class StylePlan:
    number: str
    name: str
    category: str
    replenishment: str
    lead_time_days: int
    gender: str
    price: Decimal
    msrp: Decimal
    colours: list[tuple[str, str]]
    widths: tuple[int, ...]
    factory: int
    season: str
    alternatives: list[str] = field(default_factory=list)


@dataclass
class SeedReport:
    scale: int
    created: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    orders_skipped: bool = False
    logins: list[tuple[str, str]] = field(default_factory=list)


def _plan_styles(scale: int) -> list[StylePlan]:
    rng = _rng("styles")
    n = STYLES_PER_SCALE * scale
    cats = list(CATEGORIES)
    weights = [CATEGORIES[c][3] for c in cats]
    # 65% committed, 25% seasonal, 10% discontinued, spread evenly through the line.
    kinds = [Replenishment.COMMITTED] * round(n * 0.65) + [Replenishment.SEASONAL] * round(n * 0.25)
    kinds += [Replenishment.DISCONTINUED] * (n - len(kinds))
    rng.shuffle(kinds)
    used: set[str] = set()
    plans = []
    for i in range(n):
        category = rng.choices(cats, weights)[0]
        names, (low, high), width_sets, _ = CATEGORIES[category]
        base = f"{rng.choice(MODEL_NAMES)} {rng.choice(names)}"
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base} {k}"
        used.add(name)
        price = Decimal(rng.randint(low, high)) + rng.choice([Decimal("0.00"), Decimal("0.50")])
        msrp = Decimal(math.ceil(price * Decimal("2.2") / 10) * 10) - Decimal("0.05")
        plans.append(
            StylePlan(
                number=f"TW{1001 + i}",
                name=name,
                category=category,
                replenishment=kinds[i],
                lead_time_days=rng.choice([28, 35, 42, 49, 56, 63, 70, 84]),
                gender=rng.choice(["W", "W", "W", "M", "M"]),
                price=price,
                msrp=msrp,
                colours=rng.sample(COLOURS, rng.choice([2, 2, 3, 3, 4])),
                widths=rng.choice(width_sets),
                factory=rng.randrange(len(FACTORIES)),
                season=SEASONS[i % len(SEASONS)][0],
            )
        )
    by_cat = defaultdict(list)
    for p in plans:
        by_cat[p.category].append(p)
    for p in plans:
        peers = [q for q in by_cat[p.category] if q is not p and q.replenishment == "committed"]
        if peers and rng.random() < 0.4:
            p.alternatives = [
                q.number for q in rng.sample(peers, min(len(peers), rng.randint(1, 2)))
            ]
    return plans


def _size_weight(size: Decimal, gender: str) -> float:
    mode = 8.5 if gender == "W" else 10.0
    return math.exp(-((float(size) - mode) ** 2) / 6.0)


WIDTHS = dict(Width.choices)
WIDTH_WEIGHT = {Width.NARROW: 0.35, Width.MEDIUM: 1.0, Width.WIDE: 0.55, Width.EXTRA_WIDE: 0.2}


# --------------------------------------------------------------------------- sections


def _terms_ensure(report: SeedReport) -> CommercialTerms:
    terms, created = CommercialTerms.objects.get_or_create(
        version=1,
        defaults={
            "effective_from": timezone.now() - dt.timedelta(days=730),
            "note": "Launch terms.",
        },
    )
    report.created["commercial terms"] = int(created)
    return terms


def _users_ensure(rows: list[dict], report: SeedReport, key: str) -> dict[str, object]:
    """Create the users that are missing (one password hash shared by all of them)."""
    User = get_user_model()
    emails = [r["email"] for r in rows]
    existing = {u.email: u for u in User.objects.filter(email__in=emails)}
    missing = [r for r in rows if r["email"] not in existing]
    if missing:
        hashed = make_password(DEMO_PASSWORD)
        User.objects.bulk_create([User(password=hashed, **r) for r in missing], batch_size=BATCH)
        existing = {u.email: u for u in User.objects.filter(email__in=emails)}
    report.created[key] = report.created.get(key, 0) + len(missing)
    return existing


def _staff_ensure(scale: int, report: SeedReport) -> list:
    staff_groups_ensure()
    rows = [
        {"email": e, "full_name": n, "is_staff": s, "is_superuser": su} for e, n, _, s, su in STAFF
    ]
    rng = _rng("reps")
    rep_rows = [
        {
            "email": f"rep{i + 1}@trailwise.example",
            "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "is_sales_rep": True,
        }
        for i in range(REPS_PER_SCALE * scale)
    ]
    users = _users_ensure(rows + rep_rows, report, "staff and reps")
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in StaffRole])}
    for email, _, role, _, _ in STAFF:
        if role is not None:
            users[email].groups.add(groups[role.value])  # add() is idempotent
    return [users[r["email"]] for r in rep_rows]


def _catalog_ensure(plans: list[StylePlan], report: SeedReport, progress: bool):
    main, created_main = Warehouse.objects.get_or_create(
        code="MAIN", defaults={"name": "Reno distribution center", "is_default": True}
    )
    east, created_east = Warehouse.objects.get_or_create(
        code="EAST", defaults={"name": "Columbus overflow warehouse", "is_default": False}
    )
    report.created["warehouses"] = int(created_main) + int(created_east)

    for code, name, starts_on in SEASONS:
        Season.objects.get_or_create(code=code, defaults={"name": name, "starts_on": starts_on})
    existing = set(Style.objects.values_list("number", flat=True))
    new_styles = [
        Style(
            number=p.number,
            name=p.name,
            category=p.category,
            season_id=p.season,
            replenishment=p.replenishment,
            lead_time_days=p.lead_time_days,
            gender=Gender.WOMEN if p.gender == "W" else Gender.MEN,
            description=(
                f"{'Women' if p.gender == 'W' else 'Men'}'s {p.category.lower()[:-1]} with a "
                f"removable cork-latex footbed. Sizes "
                f"{'5-12' if p.gender == 'W' else '7-13'}, widths "
                f"{', '.join(Width(w).label for w in p.widths)}."
            ),
        )
        for p in plans
        if p.number not in existing
    ]
    Style.objects.bulk_create(new_styles, batch_size=BATCH)
    report.created["styles"] = len(new_styles)
    styles = dict(Style.objects.values_list("number", "pk"))

    through = Style.alternatives.through
    alt_rows = [
        through(from_style_id=styles[p.number], to_style_id=styles[alt])
        for p in plans
        for alt in p.alternatives
    ]
    before = through.objects.count()
    through.objects.bulk_create(alt_rows, batch_size=BATCH, ignore_conflicts=True)
    report.created["style alternatives"] = through.objects.count() - before

    # SKUs and their stock, planned in a fixed order from their own random stream.
    rng = _rng("skus")
    sku_rows = []  # (SKU, main on_hand, holdback, east on_hand or None)
    n = 0
    for p in plans:
        sizes = WOMENS_SIZES if p.gender == "W" else MENS_SIZES
        style_stock = {
            Replenishment.COMMITTED: 70,
            Replenishment.SEASONAL: 45,
            Replenishment.DISCONTINUED: 14,
        }[p.replenishment]
        sold_out_rate = {"committed": 0.2, "seasonal": 0.1, "discontinued": 0.45}[p.replenishment]
        for ci, (colour, code) in enumerate(p.colours):
            for size in sizes:
                for width in p.widths:
                    n += 1
                    sku = SKU(
                        code=f"{p.number}-{code}-{int(size * 10):03d}{Width(width).label}",
                        style_id=styles[p.number],
                        color=colour,
                        size=size,
                        width=width,
                        upc=upc_for(n),
                        price=p.price,
                        msrp=p.msrp,
                        core=p.replenishment == "committed" and ci == 0 and width == Width.MEDIUM,
                    )
                    weight = _size_weight(size, p.gender) * WIDTH_WEIGHT[width]
                    weight *= 1.0 if ci == 0 else 0.6
                    roll = rng.random()
                    if roll < sold_out_rate:
                        on_hand = 0
                    elif roll < sold_out_rate + 0.12:
                        on_hand = rng.randint(1, 5)
                    else:
                        on_hand = int(style_stock * weight * rng.uniform(0.4, 1.6))
                    holdback = rng.randint(2, 6) if on_hand > 20 and rng.random() < 0.05 else 0
                    sku.quick_ship = sku.core and on_hand >= 24
                    sku.active = not (p.replenishment == "discontinued" and on_hand == 0)
                    east_qty = int(on_hand * 0.5) if sku.core else None
                    sku_rows.append((sku, on_hand, holdback, east_qty))

    existing = set(SKU.objects.values_list("code", flat=True))
    new_skus = [row[0] for row in sku_rows if row[0].code not in existing]
    with tqdm(total=len(new_skus), desc="SKUs", unit="row", disable=not progress) as bar:
        _bulk(SKU, new_skus, bar)
    report.created["SKUs"] = len(new_skus)

    sku_ids = dict(SKU.objects.values_list("code", "pk"))
    existing = set(StockLevel.objects.values_list("sku_id", "warehouse_id"))
    levels = []
    for sku, on_hand, holdback, east_on_hand in sku_rows:
        sku_id = sku_ids[sku.code]
        if (sku_id, main.pk) not in existing:
            levels.append(
                StockLevel(sku_id=sku_id, warehouse=main, on_hand=on_hand, holdback=holdback)
            )
        if east_on_hand is not None and (sku_id, east.pk) not in existing:
            levels.append(StockLevel(sku_id=sku_id, warehouse=east, on_hand=east_on_hand))
    with tqdm(total=len(levels), desc="Stock levels", unit="row", disable=not progress) as bar:
        for chunk in _chunks(levels):
            ledger.stock_levels_open(levels=chunk)
            bar.update(len(chunk))
    report.created["stock levels"] = len(levels)
    return main, sku_rows, sku_ids


def _inbound_ensure(plans, sku_rows, sku_ids, main, today, report, progress):
    """A production calendar for the next 12 weeks: each committed style comes in every
    three to five weeks; runs group a factory's styles by arrival week."""
    rng = _rng("inbound")
    skus_by_style = defaultdict(list)
    for sku, *_ in sku_rows:
        skus_by_style[sku.code.split("-")[0]].append(sku)
    runs: dict[tuple[int, int, int], list[tuple[str, int]]] = defaultdict(list)
    committed = [p for p in plans if p.replenishment == Replenishment.COMMITTED]
    for ordinal, p in enumerate(committed):
        lot = ordinal // 8  # a run carries a handful of styles from one factory
        week = rng.randint(0, 3)
        while week < 12:
            for sku in skus_by_style[p.number]:
                weight = _size_weight(sku.size, p.gender) * WIDTH_WEIGHT[sku.width]
                qty = max(6, 6 * round(rng.uniform(4, 14) * weight))
                runs[(week, p.factory, lot)].append((sku.code, qty))
            week += rng.randint(3, 5)

    existing = set(InboundRun.objects.values_list("reference", flat=True))
    new_runs, new_lines, slips = [], [], []
    for seq, (week, factory, lot) in enumerate(sorted(runs), start=1):
        reference = f"PO-{26000 + seq}"
        if reference in existing:
            continue
        eta = today + dt.timedelta(days=week * 7 + rng.randint(2, 6))
        status = (
            InboundStatus.IN_TRANSIT
            if week <= 2
            else InboundStatus.CONFIRMED
            if week <= 6
            else InboundStatus.PLANNED
        )
        run = InboundRun(
            reference=reference,
            factory=FACTORIES[factory][1],
            warehouse=main,
            status=status,
            eta=eta,
        )
        new_runs.append(run)
        new_lines.extend((run, code, qty) for code, qty in runs[(week, factory, lot)])
        if status == InboundStatus.IN_TRANSIT and rng.random() < 0.4:
            slips.append(
                (run, eta - dt.timedelta(days=rng.choice([5, 7, 10])), rng.choice(SLIP_REASONS))
            )
    InboundRun.objects.bulk_create(new_runs, batch_size=BATCH)
    lines = [
        InboundLine(run=run, sku_id=sku_ids[code], quantity=qty) for run, code, qty in new_lines
    ]
    with tqdm(total=len(lines), desc="Inbound lines", unit="row", disable=not progress) as bar:
        _bulk(InboundLine, lines, bar)
    EtaChange.objects.bulk_create(
        [EtaChange(run=run, old_eta=old, new_eta=run.eta, reason=why) for run, old, why in slips]
    )
    report.created["inbound runs"] = len(new_runs)
    report.created["inbound lines"] = len(lines)
    report.created["ETA changes"] = len(slips)


def _store_list(scale: int) -> list[tuple[str, str, str, str, str]]:
    stores = list(STORES)
    rng = _rng("stores")
    names = {s[0] for s in stores}
    while len(stores) < ACCOUNTS_PER_SCALE * scale:
        town, state, zip_code = rng.choice(TOWNS)
        name = f"{town} {rng.choice(STORE_SUFFIXES)}"
        k = 1
        while name in names:
            k += 1
            name = f"{town} {rng.choice(STORE_SUFFIXES)} {k}"
        names.add(name)
        street = f"{rng.randint(2, 980)} {rng.choice(STREETS)}"
        stores.append((name, street, town, state, zip_code))
    return stores


def _price_lists_ensure(today, report):
    """This season's key-account list (8% off, the two Alpine Soles stores' own price on
    one style) and next season's list, loaded ahead of its start; other stores pay the
    base list."""
    season_start = today.replace(month=1, day=1)
    lists = [
        ("key-accounts", "Key accounts", Decimal("8"), season_start, None),
        ("next-season", "Next season", Decimal("5"), today + dt.timedelta(days=60), None),
    ]
    created = 0
    for code, name, percent_off, starts_on, ends_on in lists:
        price_list, new = PriceList.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "percent_off": percent_off,
                "starts_on": starts_on,
                "ends_on": ends_on,
            },
        )
        created += new
        if new:
            for account in Account.objects.filter(number__in=["C10001", "C10002"]):
                PriceListAssignment.objects.create(account=account, price_list=price_list)
    key_list = PriceList.objects.get(code="key-accounts")
    style = Style.objects.order_by("number").first()
    if style and not key_list.items.exists():
        PriceListItem.objects.create(
            price_list=key_list, style=style, price=SKU.objects.filter(style=style)[0].price - 5
        )
    report.created["price lists"] = created


def _accounts_ensure(scale, reps, today, report, progress):
    rng = _rng("accounts")
    stores = _store_list(scale)
    plans = []
    for i, (name, street, town, state, zip_code) in enumerate(stores):
        slug = slugify(name)
        plans.append(
            {
                "number": f"C{10001 + i}",
                "name": name,
                "slug": slug,
                "rep": reps[i % len(reps)],
                "address": (street, town, state, zip_code),
                "second_address": rng.random() < 0.2,
                "window": rng.choices([None, 60, 90], [5, 3, 2])[0],
                "accepts_backorders": i < 2 or rng.random() > 0.08,
                "decision_default": rng.choices(
                    [DecisionDefault.CANCEL, DecisionDefault.KEEP], [7, 3]
                )[0],
                "terms_days": rng.choices([None, 60], [9, 1])[0],
                "hold": i >= 2 and rng.random() < 0.04,
                "since": today - dt.timedelta(days=rng.randint(420, 1500)),
                "buyer_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "viewer_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "viewer": i % 5 == 0,
            }
        )
    existing = set(Account.objects.values_list("number", flat=True))
    new_accounts, new_ship_tos = [], []
    for p in plans:
        if p["number"] in existing:
            continue
        account = Account(
            number=p["number"],
            name=p["name"],
            rep=p["rep"],
            credit_status=CreditStatus.HOLD if p["hold"] else CreditStatus.GOOD,
            payment_terms_days=p["terms_days"],
            accepts_backorders=p["accepts_backorders"],
            backorder_window_days=p["window"],
            decision_default=p["decision_default"],
            created_at=timezone.make_aware(dt.datetime.combine(p["since"], dt.time(9))),
        )
        new_accounts.append(account)
        street, town, state, zip_code = p["address"]
        new_ship_tos.append(
            ShipTo(
                account=account,
                label="Store",
                line1=street,
                city=town,
                region=state,
                postal_code=zip_code,
                is_default=True,
            )
        )
        if p["second_address"]:
            new_ship_tos.append(
                ShipTo(
                    account=account,
                    label="Stockroom",
                    line1=f"Rear, {street}",
                    line2="Receiving door",
                    city=town,
                    region=state,
                    postal_code=zip_code,
                )
            )
    Account.objects.bulk_create(new_accounts, batch_size=BATCH)
    for s in new_ship_tos:
        s.account_id = s.account.pk
    ShipTo.objects.bulk_create(new_ship_tos, batch_size=BATCH)
    report.created["accounts"] = len(new_accounts)
    report.created["ship-to addresses"] = len(new_ship_tos)

    user_rows = []
    for p in plans:
        user_rows.append({"email": f"buyer@{p['slug']}.example", "full_name": p["buyer_name"]})
        if p["viewer"]:
            user_rows.append(
                {"email": f"viewer@{p['slug']}.example", "full_name": p["viewer_name"]}
            )
    users = _users_ensure(user_rows, report, "retailer users")
    accounts = {
        a.number: a for a in Account.objects.filter(number__in=[p["number"] for p in plans])
    }
    memberships = []
    for p in plans:
        account = accounts[p["number"]]
        memberships.append(
            Membership(
                user=users[f"buyer@{p['slug']}.example"], account=account, role=MembershipRole.BUYER
            )
        )
        if p["viewer"]:
            memberships.append(
                Membership(
                    user=users[f"viewer@{p['slug']}.example"],
                    account=account,
                    role=MembershipRole.VIEWER,
                )
            )
    # The owner of Alpine Soles also buys for the sister store (the account switcher).
    memberships.append(
        Membership(
            user=users[f"buyer@{plans[0]['slug']}.example"],
            account=accounts[plans[1]["number"]],
            role=MembershipRole.BUYER,
        )
    )
    before = Membership.objects.count()
    Membership.objects.bulk_create(memberships, batch_size=BATCH, ignore_conflicts=True)
    report.created["memberships"] = Membership.objects.count() - before
    return [(accounts[p["number"]], p, users[f"buyer@{p['slug']}.example"]) for p in plans]


# --------------------------------------------------------------------------- orders


class _Line:
    __slots__ = (
        "sku",
        "price",
        "quantity",
        "allocated",
        "backordered",
        "shipped",
        "cancelled",
        "promised",
        "window_end",
        "cancel_reason",
        "allocations",
        "pegs",
        "obj",
    )

    def __init__(self, sku, price, quantity):
        self.sku, self.price, self.quantity = sku, price, quantity
        self.allocated = self.backordered = self.shipped = self.cancelled = 0
        self.promised = self.window_end = None
        self.cancel_reason = ""
        self.allocations: list[tuple[int, int]] = []
        self.pegs: list[tuple[int, int]] = []
        self.obj = None


class _Order:
    __slots__ = (
        "account",
        "plan",
        "placed_at",
        "source",
        "placed_by",
        "po",
        "status",
        "requested",
        "cancel_date",
        "opening",
        "lines",
        "shipped_on",
        "key",
        "obj",
    )


def _orders_ensure(accounts, terms, today, report, progress):
    if Order.objects.exists():
        report.orders_skipped = True
        return

    rng = _rng("orders")
    # The catalogue as the shops see it, in code order so the plan never depends on pks.
    skus = [
        (
            pk,
            code,
            style,
            kind,
            price,
            active,
            f"{name}, {colour}, {size.normalize():f} {WIDTHS[w]}",
        )
        for pk, code, style, kind, price, active, name, colour, size, w in SKU.objects.order_by(
            "code"
        ).values_list(
            "pk",
            "code",
            "style__number",
            "style__replenishment",
            "price",
            "active",
            "style__name",
            "color",
            "size",
            "width",
        )
    ]
    by_style = defaultdict(list)
    for row in skus:
        by_style[row[2]].append(row)
    style_numbers = sorted(by_style)
    committed = {row[2] for row in skus if row[3] == Replenishment.COMMITTED}

    levels = defaultdict(list)  # sku id -> [[level id, free to allocate]], MAIN first
    for pk, sku_id, on_hand, allocated, holdback, _ in StockLevel.objects.order_by(
        "sku_id", "-warehouse__is_default", "warehouse__code"
    ).values_list("pk", "sku_id", "on_hand", "allocated", "holdback", "warehouse__code"):
        levels[sku_id].append([pk, max(on_hand - allocated - holdback, 0)])
    inbound = defaultdict(list)  # sku id -> [[inbound line id, eta, unpromised]], by ETA
    for pk, sku_id, eta, quantity, received, promised in (
        InboundLine.objects.filter(run__status__in=OPEN_INBOUND_STATUSES)
        .order_by("sku_id", "run__eta", "run__reference")
        .values_list("pk", "sku_id", "run__eta", "quantity", "received", "promised")
    ):
        inbound[sku_id].append([pk, eta, quantity - received - promised])
    short = defaultdict(list)  # style -> SKUs a shop is waiting for (little or no stock)
    for row in skus:
        if row[2] in committed and inbound[row[0]] and sum(f for _, f in levels[row[0]]) <= 3:
            short[row[2]].append(row)

    # Plan every order of every account: the past is shipped, the last six weeks are open.
    orders: list[_Order] = []
    for account, plan, buyer in accounts:
        assortment = rng.sample(style_numbers, min(len(style_numbers), rng.randint(8, 14)))
        carried = [s for s in assortment if by_style[s][0][5]]
        history = rng.randint(12, 18)
        open_count = rng.randint(9, 14)
        days = sorted(rng.sample(range(46, 365), history), reverse=True)
        days += sorted(rng.sample(range(0, 45), open_count), reverse=True)
        for i, age in enumerate(days):
            o = _Order()
            o.account, o.plan, o.key = account, plan, None
            o.placed_at = _aware(today - dt.timedelta(days=age), rng)
            o.opening = i == 0
            o.source = rng.choices(
                [OrderSource.PORTAL, OrderSource.REP, OrderSource.API, OrderSource.UPLOAD],
                [12, 3, 3, 2],
            )[0]
            o.placed_by = account.rep if o.source == OrderSource.REP else buyer
            o.po = f"{plan['slug'][:3].upper()}-{o.placed_at:%y%m}-{rng.randint(100, 999)}"
            if o.source == OrderSource.API:
                o.key = f"erp-{o.po}-{i}"
            o.requested = None
            o.cancel_date = None
            is_open = age < 45
            if is_open and age < 14 and rng.random() < 0.3:
                # A pre-book: held stock ships on a date inside the backorder window.
                o.requested = today + dt.timedelta(days=rng.randint(7, 21))
            if is_open and rng.random() < 0.2:
                o.cancel_date = o.placed_at.date() + dt.timedelta(days=rng.choice([45, 60, 75]))
            if o.opening:
                styles = rng.sample(assortment, min(len(assortment), 6))
                picks = [r for s in styles for r in by_style[s] if rng.random() < 0.12]
                o.lines = [_Line(r, r[4], rng.randint(2, 6)) for r in picks[:80]]
            else:
                o.lines = []
                seen = set()
                for _ in range(rng.randint(6, 26)):
                    style = rng.choice(carried or assortment)
                    pool = (
                        short[style]
                        if (is_open and short[style] and rng.random() < 0.7)
                        else by_style[style]
                    )
                    row = rng.choice(pool)
                    if row[0] in seen or not row[5]:
                        continue
                    seen.add(row[0])
                    o.lines.append(_Line(row, row[4], rng.choice([1, 2, 2, 3, 4, 6])))
            if o.lines:
                o.status = "open" if is_open else "shipped"
                orders.append(o)
    orders.sort(key=lambda o: (o.placed_at, o.account.number))

    # Simulate, oldest first: ship the past; allocate, then peg, the open orders.
    window_default = terms.backorder_window_days
    for o in orders:
        placed = o.placed_at.date()
        age = (today - placed).days
        if o.status == "shipped":
            o.shipped_on = add_business_days(placed, rng.randint(1, 3))
            promised = add_business_days(placed, terms.processing_days)
            for line in o.lines:
                line.shipped = line.quantity
                line.promised = promised
                if line.quantity > 1 and rng.random() < 0.04:
                    line.cancelled = rng.randint(1, line.quantity - 1)
                    line.shipped -= line.cancelled
                    line.cancel_reason = "Backorder window ended; cancelled and notified."
            o.lines = [ln for ln in o.lines if ln.quantity]
            continue

        window = o.plan["window"] or window_default
        window_end = placed + dt.timedelta(days=window)
        if o.cancel_date:
            window_end = min(window_end, o.cancel_date)
        ships_now = o.requested is None and age >= 4  # stock part already went out
        o.shipped_on = add_business_days(placed, 2) if ships_now else None
        backorders_ok = o.plan["accepts_backorders"]
        for line in o.lines:
            sku_id, _, style, *_ = line.sku
            wanted = line.quantity
            if ships_now:
                # The stock part left the warehouse days ago (so it does not touch stock now);
                # what was short then is what the shop is still waiting for.
                waiting = wanted if sum(f for _, f in levels[sku_id]) <= 3 else 0
                line.shipped = wanted - waiting
                wanted = waiting
            # What is still wanted takes the pairs free now first (a waiting line before
            # any free pair: fair fill), then waits for a run.
            for level in levels[sku_id]:
                take = min(level[1], wanted)
                if take:
                    level[1] -= take
                    wanted -= take
                    line.allocated += take
                    line.allocations.append((level[0], take))
            if line.allocated or line.shipped:
                line.promised = max(
                    add_business_days(placed, terms.processing_days), o.requested or placed
                )
            if wanted and backorders_ok and style in committed:
                for peg in inbound[sku_id]:
                    arrives = add_business_days(peg[1], terms.receiving_days)
                    if arrives > window_end or not wanted:
                        break
                    take = min(peg[2], wanted)
                    if take:
                        peg[2] -= take
                        wanted -= take
                        line.backordered += take
                        line.pegs.append((peg[0], take))
                        line.promised = max(line.promised or arrives, arrives)
                if line.backordered:
                    line.window_end = window_end
            # What cannot be served is not ordered: the portal refuses it before submit.
            line.quantity -= wanted
        o.lines = [ln for ln in o.lines if ln.quantity]
        if not o.lines:
            continue
        if any(ln.allocated or ln.backordered for ln in o.lines):
            o.status = "partially_shipped" if any(ln.shipped for ln in o.lines) else "open"
        else:
            o.status = "shipped"
    orders = [o for o in orders if o.lines]
    _orders_write(orders, terms, today, report, progress)


def _orders_write(orders, terms, today, report, progress):
    rng = _rng("documents")
    counts = defaultdict(int)
    ship_tos = dict(ShipTo.objects.filter(is_default=True).values_list("account_id", "pk"))
    total_lines = sum(len(o.lines) for o in orders)
    shipment_no = SHIPMENT_NUMBER_START
    invoice_no = INVOICE_NUMBER_START
    bar = tqdm(total=total_lines, desc="Order lines", unit="line", disable=not progress)
    for n_start in range(0, len(orders), 2000):
        chunk = orders[n_start : n_start + 2000]
        order_objs = []
        for o in chunk:
            subtotal = sum(
                (ln.price * (ln.quantity - ln.cancelled) for ln in o.lines), Decimal("0.00")
            )
            threshold = o.account.free_freight_threshold or terms.free_freight_threshold
            freight = Decimal("0.00") if subtotal >= threshold else terms.flat_freight
            o.obj = Order(
                account=o.account,
                placed_by=o.placed_by,
                source=o.source,
                status=o.status,
                po_number=o.po,
                ship_to_id=ship_tos.get(o.account.pk),
                requested_ship_date=o.requested,
                cancel_date=o.cancel_date,
                is_opening_order=o.opening,
                terms=terms,
                idempotency_key=o.key,
                subtotal=subtotal,
                freight=freight,
                total=subtotal + freight,
                placed_at=o.placed_at,
            )
            order_objs.append(o.obj)
        Order.objects.bulk_create(order_objs, batch_size=BATCH)

        line_objs = []
        for o in chunk:
            for ln in o.lines:
                ln.obj = OrderLine(
                    order=o.obj,
                    sku_id=ln.sku[0],
                    unit_price=ln.price,
                    quantity=ln.quantity,
                    allocated=ln.allocated,
                    backordered=ln.backordered,
                    shipped=ln.shipped,
                    cancelled=ln.cancelled,
                    promised_date=ln.promised,
                    communicated_date=ln.promised,
                    window_end=ln.window_end,
                    cancel_reason=ln.cancel_reason,
                )
                line_objs.append(ln.obj)
        allocations = [
            Allocation(line=ln.obj, stock_level_id=level, quantity=q, created_at=o.placed_at)
            for o in chunk
            for ln in o.lines
            for level, q in ln.allocations
        ]
        pegs = [
            BackorderPeg(line=ln.obj, inbound_line_id=il, quantity=q, created_at=o.placed_at)
            for o in chunk
            for ln in o.lines
            for il, q in ln.pegs
        ]
        ledger.history_load(lines=line_objs, allocations=allocations, pegs=pegs, batch_size=BATCH)

        # Shipments and invoices for what went out.
        shipments, shipment_lines, invoices, invoice_lines, payments = [], [], [], [], []
        for o in chunk:
            shipped = [ln for ln in o.lines if ln.shipped]
            if not shipped:
                continue
            shipment_no += 1
            invoice_no += 1
            carrier = rng.choice(CARRIERS)
            tracking = (
                f"1Z{rng.randint(10**15, 10**16 - 1):X}"[:18]
                if carrier == "UPS"
                else str(rng.randint(10**11, 10**12 - 1))
            )
            shipment = Shipment(
                number=f"SHP-{shipment_no:06d}",
                order=o.obj,
                carrier=carrier,
                tracking=tracking,
                shipped_at=_aware(o.shipped_on, rng),
            )
            shipments.append(shipment)
            shipment_lines.extend(
                ShipmentLine(shipment=shipment, order_line=ln.obj, quantity=ln.shipped)
                for ln in shipped
            )
            subtotal = sum((ln.price * ln.shipped for ln in shipped), Decimal("0.00"))
            days = o.plan["terms_days"] or terms.payment_terms_days
            due = o.shipped_on + dt.timedelta(days=days)
            if due < today - dt.timedelta(days=10) and rng.random() < 0.97:
                status, paid = InvoiceStatus.PAID, subtotal + o.obj.freight
            elif due < today:
                status, paid = InvoiceStatus.OVERDUE, Decimal("0.00")
            else:
                status, paid = InvoiceStatus.OPEN, Decimal("0.00")
            invoice = Invoice(
                number=f"INV-{invoice_no:06d}",
                account=o.account,
                order=o.obj,
                shipment=shipment,
                issued_on=o.shipped_on,
                due_on=due,
                terms_label=f"Net {days}",
                subtotal=subtotal,
                freight=o.obj.freight,
                total=subtotal + o.obj.freight,
                paid_amount=paid,
                status=status,
            )
            invoices.append(invoice)
            invoice_lines.extend(
                InvoiceLine(
                    invoice=invoice,
                    order_line=ln.obj,
                    description=f"{ln.sku[1]} {ln.sku[6]}"[:200],
                    quantity=ln.shipped,
                    unit_price=ln.price,
                    amount=(ln.price * ln.shipped).quantize(CENT),
                )
                for ln in shipped
            )
            if paid:
                payments.append(
                    Payment(
                        invoice=invoice,
                        amount=paid,
                        received_on=due - dt.timedelta(days=rng.randint(0, 5)),
                        reference=f"ACH {rng.randint(100000, 999999)}",
                    )
                )
        Shipment.objects.bulk_create(shipments, batch_size=BATCH)
        ShipmentLine.objects.bulk_create(shipment_lines, batch_size=BATCH)
        Invoice.objects.bulk_create(invoices, batch_size=BATCH)
        InvoiceLine.objects.bulk_create(invoice_lines, batch_size=BATCH)
        Payment.objects.bulk_create(payments, batch_size=BATCH)
        for name, rows in [
            ("orders", order_objs),
            ("order lines", line_objs),
            ("allocations", allocations),
            ("backorder pegs", pegs),
            ("shipments", shipments),
            ("invoices", invoices),
        ]:
            counts[name] += len(rows)
        bar.update(len(line_objs))
        for o in chunk:  # free memory as we go
            for ln in o.lines:
                ln.obj = None
    bar.close()

    with connection.cursor() as cursor:
        if orders:
            # Order numbers come from the pk, as the ordering service numbers them.
            cursor.execute(
                "UPDATE orders_order SET number = %s || CAST(%s + id AS TEXT) "
                "WHERE number IS NULL AND id BETWEEN %s AND %s",
                ["SO-", ORDER_NUMBER_BASE, orders[0].obj.pk, orders[-1].obj.pk],
            )
    # The counters are derived from the demand rows, so they equal them by construction.
    ledger.counters_derive()
    for name, last in [
        ("shipment", shipment_no),
        ("invoice", invoice_no),
    ]:
        DocumentSequence.objects.update_or_create(name=name, defaults={"last_value": last})
    report.created.update(counts)


# --------------------------------------------------------------------------- entry point


def demo_logins(scale: int = 1) -> list[tuple[str, str]]:
    alpine, outpost = (slugify(s[0]) for s in STORES[:2])
    return [
        ("Retailer buyer (Alpine Soles and its Outpost store)", f"buyer@{alpine}.example"),
        ("Retailer viewer (Alpine Soles, read-only)", f"viewer@{alpine}.example"),
        ("Retailer buyer (Alpine Soles Outpost only)", f"buyer@{outpost}.example"),
        ("Sales rep", "rep1@trailwise.example"),
        ("Customer service agent (admin)", "agent@trailwise.example"),
        ("Customer service lead (admin)", "lead@trailwise.example"),
        ("Planner (admin)", "planner@trailwise.example"),
        ("Integration user (API: stock, inbound, shipments)", "integration@trailwise.example"),
        ("Superuser", "admin@trailwise.example"),
    ]


def table_counts() -> dict[str, int]:
    models = [
        Style,
        SKU,
        Warehouse,
        StockLevel,
        InboundRun,
        InboundLine,
        EtaChange,
        CommercialTerms,
        Account,
        ShipTo,
        Membership,
        get_user_model(),
        Order,
        OrderLine,
        Allocation,
        BackorderPeg,
        Shipment,
        ShipmentLine,
        Invoice,
        InvoiceLine,
        Payment,
    ]
    return {m._meta.label: m.objects.count() for m in models}


def demo_seed(*, scale: int = 1, progress: bool = True, today: dt.date | None = None) -> SeedReport:
    """Build (or complete) the demo data set; a second call changes nothing."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    today = today or timezone.localdate()
    report = SeedReport(scale=scale)
    with transaction.atomic():
        terms = _terms_ensure(report)
        reps = _staff_ensure(scale, report)
        plans = _plan_styles(scale)
        main, sku_rows, sku_ids = _catalog_ensure(plans, report, progress)
        demo_pictures_ensure(report=report)
        _inbound_ensure(plans, sku_rows, sku_ids, main, today, report, progress)
        del sku_rows
        accounts = _accounts_ensure(scale, reps, today, report, progress)
        _price_lists_ensure(today, report)
        _orders_ensure(accounts, terms, today, report, progress)
    report.counts = table_counts()
    report.logins = demo_logins(scale)
    return report


def iter_login_lines(report: SeedReport) -> Iterable[str]:
    width = max(len(email) for _, email in report.logins)
    yield f"Demo logins (password for all: {DEMO_PASSWORD})"
    for who, email in report.logins:
        yield f"  {email:<{width}}  {who}"
