import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import StockLevel
from notifications.kinds import MessageKind
from notifications.models import Message
from orders.exceptions import OrderInputError
from orders.models import (
    Allocation,
    CreditMemo,
    CreditReason,
    DocumentSequence,
    Invoice,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    ReturnAuthorization,
    Shipment,
)
from orders.services.fulfilment import (
    aging_bucket,
    credit_memo_issue,
    payment_record,
    return_authorize,
    shipment_confirm,
    statement_for,
    tracking_url,
)
from orders.webhooks.models import Delivery
from tests.conftest import concurrent
from tests.factories import (
    AccountFactory,
    CommercialTermsFactory,
    MembershipFactory,
    ShipToFactory,
    SKUFactory,
    StaffFactory,
    UserFactory,
    allocated_order_create,
)
from tests.webhooks.conftest import endpoint_for


def _ship(order, lines, tracking="1Z999AA10123456784", carrier="UPS", **kwargs):
    return shipment_confirm(
        order=order, carrier=carrier, tracking=tracking, lines=lines, user=None, **kwargs
    )


def _refused(service, **kwargs):
    """Call a service that runs inside its caller's transaction and expect a refusal; the
    savepoint stands in for the caller's transaction being rolled back."""
    with pytest.raises(OrderInputError) as error, transaction.atomic():
        service(**kwargs)
    return error.value


def _split_holds(line):
    line.refresh_from_db()
    return line.quantity == line.allocated + line.backordered + line.shipped + line.cancelled


@pytest.fixture
def staff(db):
    return StaffFactory()


# --- shipping ----------------------------------------------------------------------------


def test_shipping_moves_allocated_to_shipped_and_stock_out_of_the_building(account, buyer):
    # given an order of 12 + 6 pairs, fully allocated from 100 on hand each
    a, b = SKUFactory(price=Decimal("59.95")), SKUFactory(price=Decimal("42.50"))
    order = allocated_order_create(account=account, lines=[(a, 12), (b, 6)])
    # when 10 of the first SKU ship
    result = _ship(order, [(a.code, 10)])
    # then the line moved 10 from allocated to shipped, and stock went down on both counters
    line = order.lines.get(sku=a)
    assert (line.allocated, line.shipped) == (2, 10)
    assert _split_holds(line)
    level = StockLevel.objects.get(sku=a)
    assert (level.on_hand, level.allocated) == (90, 2)
    assert Allocation.objects.get(line=line).quantity == 2
    assert StockLevel.objects.get(sku=b).on_hand == 100
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert result.created
    assert result.shipment.lines.get().quantity == 10
    assert result.shipment.number.startswith("SHP-")


def test_a_shipment_confirmation_is_a_fixed_number_of_statements(
    account, buyer, settings, django_assert_max_num_queries
):
    # given an order of three SKUs, two people at the account and a webhook endpoint
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    MembershipFactory(account=account, user=UserFactory())
    endpoint_for(user=buyer, url="http://127.0.0.1:9/hook", account=account)
    skus = [SKUFactory() for _ in range(3)]
    order = allocated_order_create(account=account, lines=[(sku, 6) for sku in skus])
    # when it ships: the two numbers in one statement, each kind's message and each
    # webhook written together, whatever the number of lines
    with django_assert_max_num_queries(24):
        result = _ship(order, [(sku.code, 6) for sku in skus])
    # then both numbers were drawn, and everyone was told of the shipment and the invoice
    assert result.shipment.number.startswith("SHP-")
    assert result.invoice.number.startswith("INV-")
    told = Message.objects.filter(key__in=[f"shipment:{result.shipment.pk}:{buyer.pk}"])
    assert told.count() == 1
    assert Message.objects.filter(kind=MessageKind.SHIPMENT).count() == 2
    assert Message.objects.filter(kind=MessageKind.INVOICE).count() == 2
    assert set(Delivery.objects.values_list("event", flat=True)) == {
        "shipment.created",
        "invoice.issued",
    }


def test_shipping_everything_marks_the_order_shipped_and_drops_allocations(account):
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 12)])
    _ship(order, [(sku.code, 12)])
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert not Allocation.objects.filter(line__order=order).exists()
    assert StockLevel.objects.get(sku=sku).allocated == 0


def test_shipping_more_than_allocated_is_refused_naming_the_line_and_changes_nothing(account):
    a, b = SKUFactory(), SKUFactory()
    order = allocated_order_create(account=account, lines=[(a, 12), (b, 6)])
    with pytest.raises(OrderInputError) as error:
        _ship(order, [(a.code, 12), (b.code, 7)])
    assert "lines[1].quantity" in error.value.message_dict
    assert "Only 6 pairs" in error.value.message_dict["lines[1].quantity"][0]
    assert not Shipment.objects.exists()
    assert not Invoice.objects.exists()
    assert OrderLine.objects.get(order=order, sku=a).shipped == 0
    assert StockLevel.objects.get(sku=a).on_hand == 100
    assert not DocumentSequence.objects.filter(name="invoice", last_value__gt=0).exists()


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([("NOPE", 1)], "lines[0].sku"),
        ([("{sku}", 0)], "lines[0].quantity"),
        ([("{sku}", "two")], "lines[0].quantity"),
        ([("{sku}", 1), ("{sku}", 1)], "lines[1].sku"),
        ([], "lines"),
    ],
)
def test_bad_shipment_lines_name_the_field(account, lines, field):
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 5)])
    lines = [(code.format(sku=sku.code), qty) for code, qty in lines]
    with pytest.raises(OrderInputError) as error:
        _ship(order, lines)
    assert field in error.value.message_dict
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    ("carrier", "tracking", "field"),
    [("", "1Z999", "carrier"), ("UPS", "", "tracking"), ("UPS", "<script>", "tracking")],
)
def test_carrier_and_tracking_are_required_and_checked(account, carrier, tracking, field):
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 5)])
    with pytest.raises(OrderInputError) as error:
        _ship(order, [(sku.code, 1)], carrier=carrier, tracking=tracking)
    assert field in error.value.message_dict


def test_a_resent_confirmation_ships_nothing_twice(account):
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 12)])
    first = _ship(order, [(sku.code, 4)])
    again = _ship(order, [(sku.code, 4)])
    assert not again.created
    assert again.shipment == first.shipment
    assert again.invoice == first.invoice
    assert OrderLine.objects.get(order=order).shipped == 4
    with pytest.raises(OrderInputError) as error:
        _ship(order, [(sku.code, 5)])
    assert "tracking" in error.value.message_dict


@pytest.mark.parametrize(
    ("carrier", "number", "expected"),
    [
        ("UPS", "1Z 999/AA", "https://www.ups.com/track?tracknum=1Z%20999%2FAA"),
        ("FedEx", "7712", "https://www.fedex.com/fedextrack/?trknbr=7712"),
        ("USPS", "9400&x=1", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400%26x%3D1"),
        (
            "DHL",
            "JD014",
            "https://www.dhl.com/us-en/home/tracking/tracking-express.html?tracking-id=JD014",
        ),
        ("Local courier", "ABC1", ""),
    ],
)
def test_tracking_links_for_the_common_carriers_are_url_encoded(carrier, number, expected):
    assert tracking_url(carrier=carrier, number=number) == expected


def test_the_retailer_is_told_with_tracking_links(
    account, buyer, django_capture_on_commit_callbacks
):
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 12)])
    _ship(order, [(sku.code, 12)], carrier="fedex", tracking="7712 7713")
    message = Message.objects.get(kind=MessageKind.SHIPMENT, recipient=buyer)
    assert message.context["carrier"] == "FedEx"
    assert message.context["packages"] == [
        {"tracking": "7712", "tracking_url": "https://www.fedex.com/fedextrack/?trknbr=7712"},
        {"tracking": "7713", "tracking_url": "https://www.fedex.com/fedextrack/?trknbr=7713"},
    ]
    assert message.context["lines"][0]["quantity"] == 12
    assert Message.objects.filter(kind=MessageKind.INVOICE, recipient=buyer).exists()


def test_issuing_queues_the_pdfs_after_commit(
    account, monkeypatch, django_capture_on_commit_callbacks
):
    from orders import tasks

    queued = []
    monkeypatch.setattr(tasks.document_render_task, "delay", lambda *a: queued.append(a))
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 12)])
    with django_capture_on_commit_callbacks(execute=True):
        result = _ship(order, [(sku.code, 12)])
        assert queued == []
    assert ("invoice", result.invoice.pk) in queued
    assert ("packing_list", result.shipment.pk) in queued


# --- invoices ------------------------------------------------------------------------------


def test_invoice_lines_and_totals_are_exact_with_half_up_rounding(account):
    # given prices with awkward cents and freight below the free threshold
    a, b = SKUFactory(price=Decimal("33.335")), SKUFactory(price=Decimal("19.99"))
    order = allocated_order_create(account=account, lines=[(a, 3), (b, 7)])
    a_line = order.lines.get(sku=a)
    a_line.unit_price = Decimal("33.34")
    a_line.save()
    # when it ships
    invoice = _ship(order, [(a.code, 3), (b.code, 7)]).invoice
    # then
    amounts = {line.order_line.sku_id: line.amount for line in invoice.lines.all()}
    assert amounts == {a.pk: Decimal("100.02"), b.pk: Decimal("139.93")}
    assert invoice.subtotal == Decimal("239.95")
    assert invoice.freight == Decimal("15.00")
    assert invoice.total == Decimal("254.95")
    assert invoice.number == "INV-000001"


def test_freight_is_charged_on_the_first_invoice_only(account):
    sku = SKUFactory(price=Decimal("10.00"))
    order = allocated_order_create(account=account, lines=[(sku, 20)])
    assert order.freight == Decimal("15.00")
    first = _ship(order, [(sku.code, 5)], tracking="1ZAAA1").invoice
    second = _ship(order, [(sku.code, 5)], tracking="1ZAAA2").invoice
    assert (first.freight, first.total) == (Decimal("15.00"), Decimal("65.00"))
    assert (second.freight, second.total) == (Decimal("0.00"), Decimal("50.00"))
    assert (first.number, second.number) == ("INV-000001", "INV-000002")


def test_net_terms_and_dating_set_the_due_date(terms):
    sku = SKUFactory()
    net60 = AccountFactory(payment_terms_days=60)
    dated = AccountFactory(dating_until=dt.date(2026, 9, 1))
    with time_machine.travel(dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC), tick=False):
        a = _ship(allocated_order_create(account=net60, lines=[(sku, 6)]), [(sku.code, 6)])
        b = _ship(
            allocated_order_create(account=dated, lines=[(sku, 6)]),
            [(sku.code, 6)],
            tracking="X1234",
        )
    assert (a.invoice.terms_label, a.invoice.due_on) == ("Net 60", dt.date(2026, 5, 15))
    assert (b.invoice.terms_label, b.invoice.due_on) == (
        "Dating to Sep 1, 2026",
        dt.date(2026, 9, 1),
    )


def test_overdue_is_derived_from_the_day_asked_about(account):
    sku = SKUFactory()
    with time_machine.travel(dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.UTC), tick=False):
        invoice = _ship(
            allocated_order_create(account=account, lines=[(sku, 6)]), [(sku.code, 6)]
        ).invoice
    assert invoice.due_on == dt.date(2026, 2, 4)

    def status_on(day):
        return Invoice.objects.with_display_status(today=day).get(pk=invoice.pk).display_status

    assert status_on(dt.date(2026, 2, 4)) == "open"
    assert status_on(dt.date(2026, 2, 5)) == "overdue"
    assert list(Invoice.objects.with_status("overdue", today=dt.date(2026, 2, 5))) == [invoice]
    assert not Invoice.objects.with_status("overdue", today=dt.date(2026, 2, 4)).exists()
    # a row stored as "overdue" (older data) still reads by its due date
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.OVERDUE)
    assert status_on(dt.date(2026, 2, 4)) == "open"
    assert list(Invoice.objects.with_status("open", today=dt.date(2026, 2, 4))) == [invoice]
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.OPEN)
    with time_machine.travel(dt.datetime(2026, 1, 20, 15, 0, tzinfo=dt.UTC), tick=False):
        payment_record(invoice=invoice, amount=invoice.total)
    assert status_on(dt.date(2026, 3, 1)) == "paid"


# --- credits and payments --------------------------------------------------------------


@pytest.fixture
def invoice(account):
    sku = SKUFactory(price=Decimal("50.00"))
    order = allocated_order_create(account=account, lines=[(sku, 4)])  # 200.00 + 15.00 freight
    return _ship(order, [(sku.code, 4)]).invoice


def test_credit_memos_are_numbered_and_limited_to_the_open_balance(invoice, staff):
    memo = credit_memo_issue(
        invoice=invoice, amount="15.00", reason=CreditReason.FREIGHT, note="Late", user=staff
    )
    assert memo.number == "CM-000001"
    error = _refused(
        credit_memo_issue, invoice=invoice, amount="200.01", reason="damaged", user=staff
    )
    assert "only $200.00" in error.message_dict["amount"][0]
    memo2 = credit_memo_issue(
        invoice=invoice, amount=Decimal("200.00"), reason="damaged", user=staff
    )
    assert memo2.number == "CM-000002"
    invoice.refresh_from_db()
    assert invoice.credited_amount == Decimal("215.00")
    assert invoice.status == InvoiceStatus.CREDITED


@pytest.mark.parametrize(
    ("amount", "reason", "field"),
    [
        ("0", "damaged", "amount"),
        ("-5", "damaged", "amount"),
        ("1.005", "damaged", "amount"),
        ("abc", "damaged", "amount"),
        ("NaN", "damaged", "amount"),
        ("5", "because", "reason"),
    ],
)
def test_bad_credit_input_names_the_field(invoice, staff, amount, reason, field):
    error = _refused(credit_memo_issue, invoice=invoice, amount=amount, reason=reason, user=staff)
    assert field in error.message_dict
    assert not CreditMemo.objects.exists()


def test_a_line_credit_cannot_exceed_the_line(invoice, staff):
    line = invoice.lines.get()
    credit_memo_issue(invoice=invoice, invoice_line=line, amount="150", reason="defect", user=staff)
    error = _refused(
        credit_memo_issue,
        invoice=invoice,
        invoice_line=line,
        amount="50.01",
        reason="defect",
        user=staff,
    )
    assert "Only $50.00 of this line" in error.message_dict["amount"][0]


def test_a_return_credit_keeps_back_the_published_restocking_fee(invoice, staff):
    # given terms with a 15% restocking fee and a $200 invoice line
    terms = invoice.order.terms
    terms.restocking_fee_percent = Decimal("15")
    terms.save(update_fields=["restocking_fee_percent"])
    line = invoice.lines.get()
    # then returned goods credit at most 85% of the line; a defect credits it all
    error = _refused(
        credit_memo_issue,
        invoice=invoice,
        invoice_line=line,
        amount=str(line.amount * Decimal("0.85") + Decimal("0.01")),
        reason="return",
        user=staff,
    )
    assert "of this line is left to credit" in error.message_dict["amount"][0]
    memo = credit_memo_issue(
        invoice=invoice,
        invoice_line=line,
        amount=str(line.amount * Decimal("0.85")),
        reason="return",
        user=staff,
    )
    assert memo.amount == line.amount * Decimal("0.85")


def test_payments_settle_and_cannot_overpay(invoice):
    payment_record(invoice=invoice, amount="100.00", reference="ACH 1")
    with pytest.raises(OrderInputError):
        payment_record(invoice=invoice, amount="115.01")
    payment_record(invoice=invoice, amount="115.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.open_balance == Decimal("0.00")


# --- returns -------------------------------------------------------------------------------


def test_return_authorization_is_limited_to_shipped_pairs(account, staff):
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 10)])
    _ship(order, [(sku.code, 6)])
    ra = return_authorize(order=order, lines=[(sku.code, 4)], reason="defect", note="", user=staff)
    assert ra.number == "RA-000001"
    assert ra.lines.get().quantity == 4
    error = _refused(
        return_authorize, order=order, lines=[(sku.code, 3)], reason="defect", user=staff
    )
    assert "Only 2 shipped pairs" in error.message_dict["lines[0].quantity"][0]


def test_returns_and_defect_claims_keep_to_the_published_windows(account, staff, terms):
    # given pairs shipped 31 days ago, under terms of 30 days for returns, 365 for defects
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 10)])
    with time_machine.travel(timezone.now() - dt.timedelta(days=31), tick=False):
        _ship(order, [(sku.code, 6)])
    # when unworn pairs come back, the 30-day window has passed: refused, nothing written
    error = _refused(
        return_authorize, order=order, lines=[(sku.code, 2)], reason="return", user=staff
    )
    assert "accepted for 30 days after shipment" in error.message_dict["lines[0].sku"][0]
    assert not ReturnAuthorization.objects.exists()
    # a defect is still inside its 365 days, and damage has no window
    assert return_authorize(order=order, lines=[(sku.code, 2)], reason="defect", user=staff)
    assert return_authorize(order=order, lines=[(sku.code, 2)], reason="damaged", user=staff)


# --- statement ------------------------------------------------------------------------------


def test_statement_ages_open_items_into_buckets_on_a_fixed_date(terms):
    account = AccountFactory()
    sku = SKUFactory(price=Decimal("100.00"))
    issued = {}
    # invoices (net 30) issued so that on 2026-06-30 they are 0, 10, 45, 75 and 120 days late
    for days_late, tracking in [
        (0, "T0000"),
        (10, "T0010"),
        (45, "T0045"),
        (75, "T0075"),
        (120, "T0120"),
    ]:
        issue_day = dt.date(2026, 6, 30) - dt.timedelta(days=30 + days_late)
        with time_machine.travel(
            dt.datetime.combine(issue_day, dt.time(15), tzinfo=dt.UTC), tick=False
        ):
            order = allocated_order_create(
                account=account, lines=[(sku, 6)]
            )  # 600.00, free freight
            issued[days_late] = _ship(order, [(sku.code, 6)], tracking=tracking).invoice
    # a payment on the 10-days-late one, dated after the statement date, is not counted yet
    with time_machine.travel(dt.datetime(2026, 7, 2, 15, tzinfo=dt.UTC), tick=False):
        payment_record(invoice=issued[10], amount="600.00")
        credit_memo_issue(invoice=issued[45], amount="100.00", reason="damaged", user=None)

    statement = statement_for(account=account, as_of=dt.date(2026, 6, 30))
    assert statement.buckets == {
        "current": Decimal("600.00"),
        "1-30": Decimal("600.00"),
        "31-60": Decimal("600.00"),
        "61-90": Decimal("600.00"),
        "90+": Decimal("600.00"),
    }
    assert statement.total_due == Decimal("3000.00")
    assert statement.past_due == Decimal("2400.00")
    assert [i.days_past_due for i in statement.items] == [120, 75, 45, 10, 0]

    later = statement_for(account=account, as_of=dt.date(2026, 7, 2))
    assert later.total_due == Decimal("2300.00")
    assert issued[10].number not in [i.invoice_number for i in later.items]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-3, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
    ],
)
def test_aging_bucket_edges(days, bucket):
    assert aging_bucket(days) == bucket


# --- import_shipments ----------------------------------------------------------------------


def test_import_shipments_confirms_good_shipments_and_reports_bad_rows(account, tmp_path, capsys):
    a, b = SKUFactory(), SKUFactory()
    order = allocated_order_create(account=account, lines=[(a, 12), (b, 6)])
    path = tmp_path / "shipments.csv"
    path.write_text(
        "order,carrier,tracking,sku,quantity\n"
        f"{order.number},UPS,1Z0001,{a.code},12\n"
        f"{order.number},UPS,1Z0001,{b.code},2\n"
        f"{order.number},UPS,1Z0002,{b.code},9\n"
        "SO-404,UPS,1Z0003,X,1\n"
    )
    # dry run writes nothing but reports the bad rows
    with pytest.raises(CommandError):
        call_command("import_shipments", str(path), "--dry-run", "--no-progress")
    assert not Shipment.objects.exists()
    err = capsys.readouterr().err
    assert "row 4, column quantity: Only 6 pairs" in err
    assert "row 5, column order" in err
    # the real run confirms the good shipment and skips the bad ones
    with pytest.raises(CommandError):
        call_command("import_shipments", str(path), "--no-progress")
    assert Shipment.objects.get().tracking == "1Z0001"
    assert OrderLine.objects.get(order=order, sku=b).shipped == 2


# --- concurrency (real threads on PostgreSQL) ------------------------------------------


def _in_thread(fn, results, index):
    try:
        results[index] = fn()
    except Exception as error:  # noqa: BLE001 - reported by the test
        results[index] = error
    finally:
        connection.close()


def _run_together(functions):
    results = [None] * len(functions)
    barrier = threading.Barrier(len(functions))

    def wrapped(fn):
        def go():
            barrier.wait()
            return fn()

        return go

    threads = [
        threading.Thread(target=_in_thread, args=(wrapped(fn), results, i))
        for i, fn in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@concurrent
@pytest.mark.django_db(transaction=True)
def test_invoice_numbers_are_gapless_under_concurrent_shipments():
    # given 10 orders, and one shipment that will fail (over-ship) in the middle of them
    CommercialTermsFactory()
    account = AccountFactory()
    ShipToFactory(account=account)
    MembershipFactory(account=account, user=UserFactory())
    sku = SKUFactory()
    orders = [allocated_order_create(account=account, lines=[(sku, 6)]) for _ in range(11)]

    def ship(order, quantity):
        return lambda: _ship(order, [(sku.code, quantity)], tracking=f"1Z{order.pk:06d}")

    jobs = [ship(order, 6) for order in orders[:10]] + [ship(orders[10], 7)]
    # when all of them confirm at once
    results = _run_together(jobs)
    # then ten invoices numbered 1..10, the failed shipment left no gap and no rows
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1
    assert isinstance(failures[0], OrderInputError)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-{n:06d}" for n in range(1, 11)]
    assert Shipment.objects.count() == 10
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.allocated) == (40, 6)
    # and the next invoice continues the sequence
    later = _ship(orders[10], [(sku.code, 6)], tracking="1ZLATER").invoice
    assert later.number == "INV-000011"


@concurrent
@pytest.mark.django_db(transaction=True)
def test_concurrent_credits_never_exceed_the_open_balance():
    CommercialTermsFactory()
    account = AccountFactory()
    ShipToFactory(account=account)
    sku = SKUFactory(price=Decimal("25.00"))
    order = allocated_order_create(account=account, lines=[(sku, 40)])  # 1000.00, free freight
    invoice = _ship(order, [(sku.code, 40)]).invoice
    assert invoice.total == Decimal("1000.00")

    def credit():
        return credit_memo_issue(invoice=invoice, amount="150.00", reason="damaged", user=None)

    results = _run_together([credit for _ in range(10)])
    issued = [r for r in results if isinstance(r, CreditMemo)]
    refused = [r for r in results if isinstance(r, OrderInputError)]
    assert (len(issued), len(refused)) == (6, 4)
    invoice.refresh_from_db()
    assert invoice.credited_amount == Decimal("900.00")
    assert sorted(m.number for m in issued) == [f"CM-{n:06d}" for n in range(1, 7)]


@concurrent
@pytest.mark.django_db(transaction=True)
def test_concurrent_shipments_of_one_line_never_ship_more_than_allocated():
    CommercialTermsFactory()
    account = AccountFactory()
    ShipToFactory(account=account)
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 10)])

    def ship(n):
        return lambda: _ship(order, [(sku.code, 4)], tracking=f"1ZPAR{n:03d}")

    results = _run_together([ship(n) for n in range(5)])
    assert sum(1 for r in results if not isinstance(r, Exception)) == 2
    line = OrderLine.objects.get(order=order)
    assert (line.shipped, line.allocated) == (8, 2)
    assert _split_holds(line)
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.allocated) == (92, 2)
