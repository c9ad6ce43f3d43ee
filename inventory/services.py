"""Write use cases for stock levels' settings, inbound runs and the catalogue.

The stock and inbound counters (on hand, allocated, promised, received) are not written
here: the allocation ledger (orders.ledger) owns them. The feed services (catalog_import,
inbound_run_upsert, inbound_runs_upsert) are entry points, one transaction each."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from inventory import images, locks
from inventory.exceptions import (
    EtaChangeRequired,
    InventoryInputError,
)
from inventory.models import (
    OPEN_INBOUND_STATUSES,
    SKU,
    EtaChange,
    InboundLine,
    InboundRun,
    InboundStatus,
    StockLevel,
    Style,
    StyleImage,
    Warehouse,
)
from inventory.parsing import sku_code_normalize, whole_pairs

Progress = Callable[[int], object] | None

REASON_MAX_LENGTH = EtaChange._meta.get_field("reason").max_length
REFERENCE_MAX_LENGTH = InboundRun._meta.get_field("reference").max_length
FACTORY_MAX_LENGTH = InboundRun._meta.get_field("factory").max_length
MAX_INBOUND_QUANTITY = 1_000_000
ETA_DAYS_BACK = 365
ETA_DAYS_AHEAD = 730
# Statuses an inbound feed may set. "received" is reached only through a receipt, which
# puts stock away and fills the waiting backorders.
UPSERT_STATUSES = (*OPEN_INBOUND_STATUSES, InboundStatus.CANCELLED)


def default_holdback() -> int:
    """The safety buffer given to a stock level when a feed creates it
    (settings.INVENTORY_DEFAULT_HOLDBACK); planners override it per level."""
    return max(settings.INVENTORY_DEFAULT_HOLDBACK, 0)


def _tick(progress: Progress, count: int = 1) -> None:
    if progress is not None:
        progress(count)


@transaction.atomic(savepoint=False)
def inbound_run_arrived(*, run_id: int, on: dt.date) -> None:
    """Record the day a run's latest pairs arrived: its factory's record. A run received
    in parts counts from its first part and moves to the last: a store whose sizes came
    in the second part waited that long, and its factory's usual slip must say so."""
    InboundRun.objects.filter(pk=run_id).update(arrived_on=on)


def stock_holdback_set(*, stock_level_id: int, holdback: int) -> None:
    """Set a level's safety buffer (a planner's per-level override). Touches only holdback,
    so a concurrent allocation is never overwritten."""
    if isinstance(holdback, bool) or not isinstance(holdback, int) or holdback < 0:
        raise InventoryInputError({"holdback": ["Enter a whole number of pairs, 0 or more."]})
    StockLevel.objects.filter(pk=stock_level_id).update(holdback=holdback)


# --- ETA changes ----------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def inbound_run_reschedule(
    *, run: InboundRun, new_eta: dt.date, reason: str, user=None, today: dt.date | None = None
) -> EtaChange:
    """Move a run's ETA and record the change (old, new, reason, who, when).

    A helper inside the caller's transaction: `run` must be locked
    (inventory.locks.inbound_run_lock). The entry point for people and feeds is
    backorders.services.eta_change, which also moves the pegged lines and tells retailers.
    """
    today = today or timezone.localdate()
    errors = {}
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = ["Give the reason for the change; retailers and service read it."]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"At most {REASON_MAX_LENGTH} characters."]
    if not isinstance(new_eta, dt.date) or isinstance(new_eta, dt.datetime):
        errors["eta"] = ["Enter a date as YYYY-MM-DD."]
    elif new_eta < today:
        errors["eta"] = ["The new ETA is in the past."]
    elif new_eta == run.eta:
        errors["eta"] = [f"The ETA is already {run.eta.isoformat()}."]
    if not run.is_open:
        errors["run"] = [
            f"Run {run.reference} is {run.get_status_display().lower()}; "
            "only planned, confirmed or in-transit runs can be rescheduled."
        ]
    if errors:
        raise InventoryInputError(errors)
    change = EtaChange.objects.create(
        run=run, old_eta=run.eta, new_eta=new_eta, reason=reason, changed_by=user
    )
    run.eta = new_eta
    run.save(update_fields=["eta", "updated_at"])
    return change


# --- Stock counts -----------------------------------------------------------------------


@dataclass(frozen=True)
class StockCount:
    sku_id: int
    warehouse_id: int
    on_hand: int


@transaction.atomic(savepoint=False)
def stock_levels_ensure(*, pairs) -> None:
    """Create the missing stock levels for (sku_id, warehouse_id) pairs, with the default
    holdback. Safe against a concurrent creator (the unique constraint decides)."""
    holdback = default_holdback()
    StockLevel.objects.bulk_create(
        [
            StockLevel(sku_id=sku_id, warehouse_id=warehouse_id, holdback=holdback)
            for sku_id, warehouse_id in set(pairs)
        ],
        ignore_conflicts=True,
    )


# --- Catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogRow:
    style_number: str
    style_name: str
    category: str
    replenishment: str
    lead_time_days: int
    sku: str
    color: str
    size: Decimal
    width: int
    upc: str
    price: Decimal
    msrp: Decimal
    active: bool = True
    core: bool = False
    quick_ship: bool = False
    season: str = ""  # a Season's code; "" leaves the style's season as it is


STYLE_FIELDS = {
    "name": "style_name",
    "category": "category",
    "season_id": "season",
    "replenishment": "replenishment",
    "lead_time_days": "lead_time_days",
}
SKU_FIELDS = ("color", "size", "width", "upc", "price", "msrp", "active", "core", "quick_ship")


@dataclass
class CatalogImportResult:
    styles_created: int = 0
    styles_updated: int = 0
    skus_created: int = 0
    skus_updated: int = 0


@transaction.atomic(durable=True)
def catalog_import(*, rows: Sequence[CatalogRow], progress: Progress = None):
    """Create or update styles (by number) and SKUs (by code) from validated rows, all
    or nothing. Only the fields that differ are written."""
    result = CatalogImportResult()
    styles = {s.number: s for s in Style.objects.filter(number__in={r.style_number for r in rows})}
    skus = {s.code: s for s in SKU.objects.filter(code__in={r.sku for r in rows})}
    for row in rows:
        style = styles.get(row.style_number)
        values = {name: getattr(row, attr) for name, attr in STYLE_FIELDS.items()}
        if not values["season_id"]:
            del values["season_id"]
        if style is None:
            style = styles[row.style_number] = Style.objects.create(
                number=row.style_number, **values
            )
            result.styles_created += 1
        else:
            changed = [name for name, value in values.items() if getattr(style, name) != value]
            if changed:
                for name in changed:
                    setattr(style, name, values[name])
                style.save(update_fields=changed)
                result.styles_updated += 1
        sku = skus.get(row.sku)
        values = {name: getattr(row, name) for name in SKU_FIELDS}
        if sku is None:
            skus[row.sku] = SKU.objects.create(code=row.sku, style=style, **values)
            result.skus_created += 1
        else:
            changed = [name for name, value in values.items() if getattr(sku, name) != value]
            if sku.style_id != style.pk:
                sku.style = style
                changed.append("style")
            if changed:
                for name in changed:
                    if name != "style":
                        setattr(sku, name, values[name])
                sku.save(update_fields=changed)
                result.skus_updated += 1
        _tick(progress)
    return result


# --- Inbound runs -----------------------------------------------------------------------


@dataclass(frozen=True)
class InboundLineInput:
    sku: str
    quantity: object


@dataclass(frozen=True)
class InboundRunInput:
    reference: str
    eta: object
    lines: Sequence[InboundLineInput]
    status: str | None = None
    factory: str | None = None
    warehouse: str | None = None


@dataclass(frozen=True)
class InboundRunPlan:
    """A validated upsert: what to write."""

    reference: str
    eta: dt.date
    status: str
    factory: str
    warehouse_id: int
    lines: tuple[tuple[int, int], ...]  # (sku_id, quantity)
    run: InboundRun | None = None


@dataclass(frozen=True)
class InboundUpsertResult:
    run: InboundRun
    created: bool
    lines_created: int = 0
    lines_updated: int = 0


def _control_characters(text: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in text)


def inbound_run_check(
    *,
    data: InboundRunInput,
    run: InboundRun | None = None,
    lookups: dict | None = None,
    today: dt.date | None = None,
) -> tuple[InboundRunPlan | None, dict[str, list[str]]]:
    """Validate one run's upsert without writing: (plan, {}) or (None, errors keyed by
    field or line, e.g. "lines[1].sku"). `run` is the existing run (locked by a writer);
    `lookups` may carry pre-read {"skus": {code: SKU}, "warehouses": {code: Warehouse}}."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    reference = (data.reference or "").strip() if isinstance(data.reference, str) else ""
    if not reference:
        errors["reference"] = ["A reference is required."]
    elif len(reference) > REFERENCE_MAX_LENGTH or _control_characters(reference):
        errors["reference"] = [f"At most {REFERENCE_MAX_LENGTH} printable characters."]

    eta = data.eta
    if not isinstance(eta, dt.date) or isinstance(eta, dt.datetime):
        errors["eta"] = ["Enter a date as YYYY-MM-DD."]
    elif run is not None and eta != run.eta:
        errors["eta"] = [
            f"Run {run.reference} is due {run.eta.isoformat()}. An ETA moves only through "
            'the ETA change, with a reason (admin action "Change ETA" or '
            f"POST /api/v1/inbound/{run.reference}/eta/), so retailers are told."
        ]
    elif run is None and not (
        today - dt.timedelta(days=ETA_DAYS_BACK) <= eta <= today + dt.timedelta(days=ETA_DAYS_AHEAD)
    ):
        errors["eta"] = [
            f"The ETA must be within {ETA_DAYS_BACK} days back and {ETA_DAYS_AHEAD} days ahead."
        ]

    if run is not None and not run.is_open:
        errors["reference"] = [
            f"Run {run.reference} is {run.get_status_display().lower()} and can no longer change."
        ]

    status = data.status or (run.status if run is not None else InboundStatus.PLANNED)
    if status == InboundStatus.RECEIVED:
        errors["status"] = [
            "A run becomes received through its receipt "
            "(POST /api/v1/inbound/<reference>/receive/), which puts the stock away."
        ]
    elif status not in UPSERT_STATUSES:
        errors["status"] = [f"Choose one of: {', '.join(UPSERT_STATUSES)}."]

    factory = data.factory if data.factory is not None else (run.factory if run else "")
    factory = factory.strip() if isinstance(factory, str) else ""
    if len(factory) > FACTORY_MAX_LENGTH or _control_characters(factory):
        errors["factory"] = [f"At most {FACTORY_MAX_LENGTH} printable characters."]

    lookups = lookups or {}
    warehouse_id = run.warehouse_id if run is not None else None
    if data.warehouse:
        code = str(data.warehouse).strip().upper()
        warehouses = lookups.get("warehouses")
        warehouse = (
            warehouses.get(code)
            if warehouses is not None
            else Warehouse.objects.filter(code__iexact=code).first()
        )
        if warehouse is None:
            errors["warehouse"] = [f"No warehouse {code}."]
        else:
            warehouse_id = warehouse.pk
    elif warehouse_id is None:
        default = (
            lookups.get("default_warehouse") or Warehouse.objects.filter(is_default=True).first()
        )
        if default is None:
            errors["warehouse"] = ["Name the warehouse: there is no default warehouse."]
        else:
            warehouse_id = default.pk

    lines_in = list(data.lines or [])
    if not lines_in:
        errors["lines"] = ["A run needs at least one line."]
    codes = {sku_code_normalize(line.sku) for line in lines_in}
    skus = lookups.get("skus")
    if skus is None:
        skus = {sku.code.upper(): sku for sku in SKU.objects.filter(code__in=codes)}
    existing = {}
    if run is not None:
        existing = {line.sku_id: line for line in run.lines.all()}
    planned = []
    seen = set()
    for index, line in enumerate(lines_in):
        code = sku_code_normalize(line.sku)
        sku = skus.get(code)
        if not code:
            errors[f"lines[{index}].sku"] = ["A SKU code is required."]
        elif sku is None:
            errors[f"lines[{index}].sku"] = [f"Unknown SKU {code}."]
        elif sku.pk in seen:
            errors[f"lines[{index}].sku"] = [f"{code} appears twice in this run."]
        quantity = whole_pairs(line.quantity)
        if quantity is None:
            errors[f"lines[{index}].quantity"] = ["Enter a whole number of pairs."]
        elif not 1 <= quantity <= MAX_INBOUND_QUANTITY:
            errors[f"lines[{index}].quantity"] = [
                f"Enter between 1 and {MAX_INBOUND_QUANTITY} pairs."
            ]
        elif sku is not None and sku.pk in existing:
            current = existing[sku.pk]
            floor = current.received + current.promised
            if quantity < floor:
                errors[f"lines[{index}].quantity"] = [
                    f"At least {floor}: {current.received} received and "
                    f"{current.promised} promised to backorders."
                ]
        if sku is not None:
            seen.add(sku.pk)
            if quantity is not None:
                planned.append((sku.pk, quantity))
    if status == InboundStatus.CANCELLED and run is not None:
        promised = sum(line.promised for line in existing.values())
        if promised:
            errors["status"] = [
                f"{promised} pairs of this run are promised to backorders: cancel it with "
                f"POST /api/v1/inbound/{reference}/cancel/ (or the admin's Cancel run), "
                "which moves or cancels them and tells the retailers."
            ]
    if errors:
        return None, errors
    return (
        InboundRunPlan(reference, eta, status, factory, warehouse_id, tuple(planned), run),
        {},
    )


@transaction.atomic(savepoint=False)
def inbound_run_write(*, data: InboundRunInput, today=None) -> InboundUpsertResult:
    """inbound_run_upsert inside a caller's transaction (the admin's change form)."""
    reference = (data.reference or "").strip() if isinstance(data.reference, str) else ""
    run = locks.inbound_run_lock(reference=reference) if reference else None
    plan, errors = inbound_run_check(data=data, run=run, today=today)
    if errors:
        error_class = EtaChangeRequired if run is not None and "eta" in errors else None
        raise (error_class or InventoryInputError)(errors)
    created = False
    if run is None:
        try:
            with transaction.atomic():
                run = InboundRun.objects.create(
                    reference=plan.reference,
                    eta=plan.eta,
                    status=plan.status,
                    factory=plan.factory,
                    warehouse_id=plan.warehouse_id,
                )
            created = True
        except IntegrityError:
            # Another request created it meanwhile: update it as if it had been there.
            return inbound_run_write(data=data, today=today)
    else:
        changed = [
            name
            for name, value in (
                ("status", plan.status),
                ("factory", plan.factory),
                ("warehouse_id", plan.warehouse_id),
            )
            if getattr(run, name) != value
        ]
        for name in changed:
            setattr(run, name, getattr(plan, name))
        if changed:
            run.save(update_fields=[*changed, "updated_at"])
    existing = {line.sku_id: line for line in locks.inbound_lines_lock(run_id=run.pk)}
    lines_created = lines_updated = 0
    for index, (sku_id, quantity) in enumerate(plan.lines):
        line = existing.get(sku_id)
        if line is None:
            InboundLine.objects.create(run=run, sku_id=sku_id, quantity=quantity)
            lines_created += 1
        elif line.quantity != quantity:
            updated = InboundLine.objects.filter(
                pk=line.pk, received__lte=quantity - F("promised")
            ).update(quantity=quantity)
            if not updated:
                raise InventoryInputError(
                    {f"lines[{index}].quantity": ["More of this line was promised meanwhile."]}
                )
            lines_updated += 1
    return InboundUpsertResult(run, created, lines_created, lines_updated)


@transaction.atomic(durable=True)
def inbound_run_upsert(
    *,
    reference: str,
    eta,
    lines: Sequence[InboundLineInput],
    status: str | None = None,
    factory: str | None = None,
    warehouse: str | None = None,
) -> InboundUpsertResult:
    """Create a run, or update an open one, by its reference. Lines are upserted by SKU
    (lines not named are kept). The ETA of an existing run is never changed here
    (EtaChangeRequired): it moves only through the ETA change, with a reason."""
    return inbound_run_write(
        data=InboundRunInput(reference, eta, tuple(lines), status, factory, warehouse)
    )


@transaction.atomic(durable=True)
def inbound_runs_upsert(
    *, runs: Sequence[InboundRunInput], progress: Progress = None
) -> list[InboundUpsertResult]:
    """inbound_run_upsert for many runs, all or nothing (the inbound CSV feed). Runs are
    written in reference order so two feeds lock them in the same order."""
    results = []
    for data in sorted(runs, key=lambda item: str(item.reference)):
        results.append(inbound_run_write(data=data))
        _tick(progress, max(len(data.lines), 1))
    return results


# --- Style pictures ----------------------------------------------------------------------


def _style_color_check(*, style: Style, color: str) -> None:
    colors = set(style.skus.values_list("color", flat=True))
    if color and color not in colors:
        raise InventoryInputError(
            {"color": [f"{style.number} has no colour {color!r}: {', '.join(sorted(colors))}."]}
        )


def _image_files_set(*, image: StyleImage, data: bytes, filename: str) -> None:
    """The original and every size the pages show, stored (the row is saved by the caller)."""
    try:
        files = images.renditions(data)
    except images.BadImage as error:
        raise InventoryInputError({"original": [str(error)]}) from None
    image.original.save(filename, ContentFile(data), save=False)
    for name, content in files.items():
        getattr(image, name).save(content.name, content, save=False)


@transaction.atomic(durable=True)
def style_image_add(
    *,
    style: Style,
    data: bytes,
    filename: str,
    color: str = "",
    alt_text: str = "",
    position: int | None = None,
) -> StyleImage:
    """Add a picture of a style (in one of its colours, or blank for all), last in its
    colour's order unless a position is given, with every size the pages show."""
    color = color.strip()
    _style_color_check(style=style, color=color)
    if position is None:
        last = style.images.filter(color=color).order_by("-position").first()
        position = last.position + 1 if last else 0
    image = StyleImage(style=style, color=color, alt_text=alt_text.strip(), position=position)
    _image_files_set(image=image, data=data, filename=filename)
    image.save()
    return image


@transaction.atomic(durable=True)
def style_image_put(
    *, style: Style, color: str, position: int, data: bytes, filename: str, alt_text: str = ""
) -> str:
    """The picture at a style's colour and position, as a feed states it: added, or
    replaced when its content differs (the same content only takes the alt text), so a
    feed imported twice changes nothing. Returns "added", "replaced" or "unchanged"."""
    color = color.strip()
    _style_color_check(style=style, color=color)
    image = (
        StyleImage.objects.filter(style=style, color=color, position=position)
        .order_by("pk")
        .first()
    )
    if image is None:
        image = StyleImage(style=style, color=color, position=position)
        outcome = "added"
    elif images.content_digest(data) in image.thumb.name:
        if image.alt_text != alt_text.strip():
            image.alt_text = alt_text.strip()
            image.save(update_fields=["alt_text"])
        return "unchanged"
    else:
        outcome = "replaced"
    image.alt_text = alt_text.strip()
    _image_files_set(image=image, data=data, filename=filename)
    image.save()
    return outcome


def style_image_renditions_make(*, image: StyleImage) -> None:
    """Make the sizes of a picture whose original was stored directly (the admin form)."""
    image.original.open("rb")
    try:
        data = image.original.read()
    finally:
        image.original.close()
    try:
        files = images.renditions(data)
    except images.BadImage as error:
        raise InventoryInputError({"original": [str(error)]}) from None
    for name, content in files.items():
        getattr(image, name).save(content.name, content, save=False)
    image.save(update_fields=list(files))
