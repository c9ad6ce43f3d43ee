import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inventory import locks, services
from inventory.exceptions import (
    EtaChangeRequired,
    InboundOverPromised,
    InsufficientStock,
    InventoryInputError,
)
from inventory.models import SKU, EtaChange, InboundLine, InboundRun, InboundStatus, StockLevel
from inventory.selectors import stock_takes
from inventory.services import InboundLineInput
from orders.ledger import counters
from tests.conftest import concurrent
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    SKUFactory,
    StaffFactory,
    StockLevelFactory,
    StyleFactory,
    WarehouseFactory,
)

TODAY = timezone.localdate


# --- inbound_run_reschedule --------------------------------------------------------------


def reschedule(run, **kwargs):
    with transaction.atomic():
        locked = locks.inbound_run_lock(run_id=run.pk)
        return services.inbound_run_reschedule(run=locked, **kwargs)


@pytest.mark.django_db
def test_reschedule_records_old_new_reason_who_and_when():
    # given
    planner = StaffFactory()
    old_eta = TODAY() + dt.timedelta(days=10)
    run = InboundRunFactory(eta=old_eta)
    new_eta = old_eta + dt.timedelta(days=14)

    # when
    change = reschedule(run, new_eta=new_eta, reason="  Port congestion  ", user=planner)

    # then
    run.refresh_from_db()
    assert run.eta == new_eta
    assert (change.run, change.old_eta, change.new_eta, change.reason, change.changed_by) == (
        run,
        old_eta,
        new_eta,
        "Port congestion",
        planner,
    )
    assert change.changed_at is not None
    assert change.changed_at.tzinfo is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "days", "reason", "field"),
    [
        (InboundStatus.CONFIRMED, 14, "", "reason"),
        (InboundStatus.CONFIRMED, 14, "   ", "reason"),
        (InboundStatus.CONFIRMED, 14, "x" * 501, "reason"),
        (InboundStatus.CONFIRMED, -1, "Earlier?", "eta"),
        (InboundStatus.CONFIRMED, 10, "Same date", "eta"),
        (InboundStatus.RECEIVED, 14, "Too late", "run"),
        (InboundStatus.CANCELLED, 14, "Too late", "run"),
    ],
    ids=["no-reason", "blank-reason", "long-reason", "past", "same", "received", "cancelled"],
)
def test_reschedule_refuses_bad_input_naming_the_field_and_changes_nothing(
    status, days, reason, field
):
    run = InboundRunFactory(eta=TODAY() + dt.timedelta(days=10), status=status)
    with pytest.raises(InventoryInputError) as raised:
        reschedule(run, new_eta=TODAY() + dt.timedelta(days=days), reason=reason, user=None)
    assert field in raised.value.message_dict
    run.refresh_from_db()
    assert run.eta == TODAY() + dt.timedelta(days=10)
    assert not EtaChange.objects.exists()


# --- stock levels -----------------------------------------------------------------------


@pytest.mark.django_db
def test_holdback_set_never_overwrites_a_concurrent_allocation():
    level = StockLevelFactory(on_hand=10, allocated=0, holdback=0)
    stale = StockLevel.objects.get(pk=level.pk)
    StockLevel.objects.filter(pk=level.pk).update(allocated=7)  # an order meanwhile
    stale.holdback = 2
    services.stock_holdback_set(stock_level_id=stale.pk, holdback=stale.holdback)
    level.refresh_from_db()
    assert (level.allocated, level.holdback) == (7, 2)
    with pytest.raises(InventoryInputError):
        services.stock_holdback_set(stock_level_id=level.pk, holdback=-1)


@pytest.mark.django_db
def test_stock_allocate_many_moves_every_level_in_one_statement(django_assert_num_queries):
    # given three levels read without a lock (ATS 5, 3 and 8 behind a holdback of 2)
    levels = [
        StockLevelFactory(on_hand=5),
        StockLevelFactory(on_hand=4, allocated=1),
        StockLevelFactory(on_hand=10, holdback=2),
    ]
    # when each gives all it has, in one call
    with django_assert_num_queries(1):  # the pk-ordered lock and the UPDATE together
        counters.stock_allocate_many(takes=[(levels[2], 8), (levels[0], 5), (levels[1], 3)])
    # then every counter moved, in the database and on the objects
    assert [level.allocated for level in levels] == [5, 4, 8]
    assert [StockLevel.objects.get(pk=level.pk).allocated for level in levels] == [5, 4, 8]


@pytest.mark.django_db
def test_stock_allocate_many_refuses_a_level_sold_since_it_was_read():
    # given two levels read with 5 pairs each, and one sold out since the read
    first, second = StockLevelFactory(on_hand=5), StockLevelFactory(on_hand=5)
    StockLevel.objects.filter(pk=second.pk).update(allocated=3)
    # when both are allocated from what was read, the one that no longer has them fails
    with pytest.raises(InsufficientStock) as refused, transaction.atomic():
        counters.stock_allocate_many(takes=[(first, 5), (second, 5)])
    assert refused.value.sku_code == second.sku_id
    # and the caller's rollback leaves both as they were
    assert [StockLevel.objects.get(pk=level.pk).allocated for level in (first, second)] == [0, 3]


@pytest.mark.django_db
def test_inbound_promise_many_promises_what_each_line_still_brings(warehouse):
    run = InboundRunFactory(warehouse=warehouse)
    lines = [
        InboundLineFactory(run=run, quantity=10),
        InboundLineFactory(run=run, quantity=10, received=4, promised=1),
    ]
    counters.inbound_promise_many(quantities={lines[0].pk: 10, lines[1].pk: 5})
    assert [InboundLine.objects.get(pk=line.pk).promised for line in lines] == [10, 6]
    refused = f"{lines[1].pk} cannot take 1 more"
    with pytest.raises(InboundOverPromised, match=refused), transaction.atomic():
        counters.inbound_promise_many(quantities={lines[1].pk: 1})
    assert InboundLine.objects.get(pk=lines[1].pk).promised == 6


@concurrent
@pytest.mark.django_db(transaction=True)
def test_concurrent_counts_and_allocations_never_break_allocated_within_on_hand():
    # given a level with 20 pairs; counters race with 10 orders of 3 pairs
    warehouse = WarehouseFactory()
    level = StockLevelFactory(warehouse=warehouse, on_hand=20)
    errors, allocated, barrier = [], [], threading.Barrier(12)

    def allocate():
        try:
            barrier.wait()
            with transaction.atomic():
                levels = locks.stock_levels_lock(sku_ids=[level.sku_id])
                taken = stock_takes(levels=levels, sku_id=level.sku_id, quantity=3)
                counters.stock_allocate_many(takes=taken)
            allocated.append(sum(quantity for _, quantity in taken))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    def count(on_hand):
        try:
            barrier.wait()
            with transaction.atomic():
                locks.stock_level_lock_by_id(stock_level_id=level.pk)
                counters.stock_on_hand_set(stock_level_id=level.pk, on_hand=on_hand)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(10)]
    threads += [threading.Thread(target=count, args=(n,)) for n in (12, 25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then no error other than a refused shortage, and the invariant holds
    assert errors == []
    level.refresh_from_db()
    assert 0 <= level.allocated <= level.on_hand
    assert level.allocated == sum(allocated) > 0


# --- inbound runs -------------------------------------------------------------------------


def upsert(reference="RUN-1", eta=None, lines=(), **kwargs):
    return services.inbound_run_upsert(
        reference=reference,
        eta=eta or TODAY() + dt.timedelta(days=30),
        lines=[InboundLineInput(sku, quantity) for sku, quantity in lines],
        **kwargs,
    )


@pytest.mark.django_db
def test_inbound_run_upsert_creates_then_updates_a_run_by_reference(warehouse):
    a, b = SKUFactory(), SKUFactory()
    eta = TODAY() + dt.timedelta(days=30)

    created = upsert(eta=eta, lines=[(a.code, 10)], factory="Porto")
    assert created.created
    run = InboundRun.objects.get(reference="RUN-1")
    assert (run.status, run.factory, run.warehouse, run.eta) == (
        InboundStatus.PLANNED,
        "Porto",
        warehouse,
        eta,
    )

    updated = upsert(
        reference=" run-1 ".upper(),
        eta=eta,
        lines=[(a.code.lower(), 12), (b.code, 5)],
        status=InboundStatus.CONFIRMED,
    )
    assert not updated.created
    assert (updated.lines_created, updated.lines_updated) == (1, 1)
    run.refresh_from_db()
    assert (run.status, run.factory) == (InboundStatus.CONFIRMED, "Porto")
    assert dict(run.lines.values_list("sku__code", "quantity")) == {a.code: 12, b.code: 5}


@pytest.mark.django_db
def test_inbound_run_upsert_never_moves_the_eta_of_an_existing_run(warehouse):
    run = InboundRunFactory(reference="RUN-9")
    line = InboundLineFactory(run=run, quantity=10)
    with pytest.raises(EtaChangeRequired) as raised:
        upsert(reference="RUN-9", eta=run.eta + dt.timedelta(days=7), lines=[(line.sku.code, 20)])
    assert "/api/v1/inbound/RUN-9/eta/" in raised.value.message_dict["eta"][0]
    run.refresh_from_db()
    line.refresh_from_db()
    assert line.quantity == 10
    assert not EtaChange.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lines", "kwargs", "key"),
    [
        ([("NOPE", 5)], {}, "lines[0].sku"),
        ([("{sku}", 5), ("{sku}", 6)], {}, "lines[1].sku"),
        ([("{sku}", 0)], {}, "lines[0].quantity"),
        ([("{sku}", "ten")], {}, "lines[0].quantity"),
        ([("{sku}", 6)], {}, "lines[0].quantity"),  # below received 3 + promised 4
        ([], {}, "lines"),
        ([("{sku}", 10)], {"status": "received"}, "status"),
        ([("{sku}", 10)], {"status": "lost"}, "status"),
        ([("{sku}", 10)], {"status": "cancelled"}, "status"),  # 4 pairs promised
        ([("{sku}", 10)], {"warehouse": "NOWHERE"}, "warehouse"),
        ([("{sku}", 10)], {"factory": "x" * 81}, "factory"),
    ],
)
def test_inbound_run_upsert_refuses_bad_input_naming_the_field_or_line(lines, kwargs, key):
    run = InboundRunFactory(reference="RUN-5")
    line = InboundLineFactory(run=run, quantity=10, received=3, promised=4)
    lines = [(sku.format(sku=line.sku.code), quantity) for sku, quantity in lines]
    with pytest.raises(InventoryInputError) as raised:
        upsert(reference="RUN-5", eta=run.eta, lines=lines, **kwargs)
    assert key in raised.value.message_dict
    line.refresh_from_db()
    run.refresh_from_db()
    assert (line.quantity, run.status, InboundLine.objects.count()) == (10, "confirmed", 1)


@pytest.mark.django_db
def test_a_received_run_can_no_longer_change():
    run = InboundRunFactory(reference="RUN-7", status=InboundStatus.RECEIVED)
    line = InboundLineFactory(run=run, quantity=10, received=10)
    with pytest.raises(InventoryInputError) as raised:
        upsert(reference="RUN-7", eta=run.eta, lines=[(line.sku.code, 12)])
    assert "reference" in raised.value.message_dict


@concurrent
@pytest.mark.django_db(transaction=True)
def test_concurrent_upserts_of_one_new_reference_create_one_run():
    WarehouseFactory()
    sku = SKUFactory()
    barrier, results, errors = threading.Barrier(4), [], []

    def push(quantity):
        try:
            barrier.wait()
            results.append(upsert(reference="RUN-RACE", lines=[(sku.code, quantity)]))
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=push, args=(10 + n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(result.created for result in results) == [False, False, False, True]
    assert InboundRun.objects.filter(reference="RUN-RACE").count() == 1
    assert InboundLine.objects.filter(run__reference="RUN-RACE").count() == 1


# --- catalogue ----------------------------------------------------------------------------


def catalog_row(**overrides):
    values = {
        "style_number": "ST9",
        "style_name": "Walker",
        "category": "Sneakers",
        "replenishment": "committed",
        "lead_time_days": 28,
        "sku": "ST9-BLK-8M",
        "color": "Black",
        "size": Decimal("8.0"),
        "width": 2,
        "upc": "012345678905",
        "price": Decimal("60.00"),
        "msrp": Decimal("130.00"),
    }
    return services.CatalogRow(**{**values, **overrides})


@pytest.mark.django_db
def test_catalog_import_creates_then_updates_only_what_changed():
    first = services.catalog_import(rows=[catalog_row()])
    assert (first.styles_created, first.skus_created) == (1, 1)

    again = services.catalog_import(rows=[catalog_row()])
    assert (again.styles_updated, again.skus_updated, again.skus_created) == (0, 0, 0)

    changed = services.catalog_import(
        rows=[catalog_row(lead_time_days=35, price=Decimal("62.50"), core=True)]
    )
    assert (changed.styles_updated, changed.skus_updated) == (1, 1)
    sku = SKU.objects.select_related("style").get(code="ST9-BLK-8M")
    assert (sku.style.lead_time_days, sku.price, sku.core) == (35, Decimal("62.50"), True)
    assert StyleFactory._meta.model.objects.count() == 1
