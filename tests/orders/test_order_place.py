import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import InboundLine, Replenishment, StockLevel, StyleImage
from inventory.selectors import NoPromiseReason
from notifications.kinds import context_complete
from notifications.models import Message, MessageStatus
from notifications.rendering import render_message
from orders.exceptions import (
    IdempotencyKeyReused,
    OrderInputError,
    OrderNotAllowed,
)
from orders.models import (
    Allocation,
    BackorderPeg,
    BackorderPolicy,
    CreditStatus,
    Order,
    OrderLine,
    OrderSource,
    OrderStatus,
)
from orders.selectors import line_expected_dates
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from orders.services.ordering import orders_totals_refresh
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    NotificationPreferenceFactory,
    RepFactory,
    ShipToFactory,
    SKUFactory,
    allocated_order_create,
)
from tests.orders.conftest import inbound_for, stocked_sku


def place(account, user, lines, **kwargs):
    return order_place(
        account=account,
        user=user,
        lines=[LineRequest(sku.code if hasattr(sku, "code") else sku, qty) for sku, qty in lines],
        **kwargs,
    )


def counts():
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        Allocation.objects.count(),
        BackorderPeg.objects.count(),
        StockLevel.objects.aggregate(a=Sum("allocated"))["a"],
        InboundLine.objects.aggregate(p=Sum("promised"))["p"],
        Message.objects.count(),
    )


# --- The split: stock, backorder, cancel ------------------------------------------------


def test_stock_is_allocated_and_the_rest_is_pegged_to_the_run(fill_in_account, buyer, warehouse):
    # given 10 in stock and a run bringing 100 in three weeks
    sku = stocked_sku(warehouse=warehouse, on_hand=10)
    inbound = inbound_for(sku=sku, warehouse=warehouse, quantity=100, days=21)
    # when 25 are ordered
    order = place(fill_in_account, buyer, [(sku, 25)]).order
    # then 10 ship from stock and 15 wait for the run
    line = order.lines.get()
    assert (line.allocated, line.backordered, line.cancelled) == (10, 15, 0)
    assert StockLevel.objects.get(sku=sku).allocated == 10
    inbound.refresh_from_db()
    assert inbound.promised == 15
    assert BackorderPeg.objects.get(line=line).inbound_line == inbound
    assert line.promised_date > inbound.run.eta
    assert line.window_end is not None
    assert order.status == OrderStatus.OPEN
    assert order.number == f"SO-{100000 + order.pk}"


def test_holdback_is_never_offered(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse, on_hand=10, holdback=4)
    order = place(fill_in_account, buyer, [(sku, 8)], backorder_policy=BackorderPolicy.NONE).order
    line = order.lines.get()
    assert (line.allocated, line.cancelled) == (6, 2)
    assert line.cancel_reason == NoPromiseReason.BACKORDERS_DECLINED


def test_ship_available_cancel_rest_cancels_with_reason(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse, on_hand=6)
    inbound = inbound_for(sku=sku, warehouse=warehouse)
    order = place(fill_in_account, buyer, [(sku, 9)], backorder_policy=BackorderPolicy.NONE).order
    line = order.lines.get()
    assert (line.allocated, line.backordered, line.cancelled) == (6, 0, 3)
    assert line.cancel_reason
    inbound.refresh_from_db()
    assert inbound.promised == 0


def test_pairs_that_cannot_be_had_do_not_count_toward_the_minimum(
    fill_in_account, buyer, warehouse
):
    # given 3 pairs in stock and a fill-in minimum of 6
    sku = stocked_sku(warehouse=warehouse, on_hand=3)
    inbound_for(sku=sku, warehouse=warehouse)
    # when 9 are ordered, shipping what is available and cancelling the rest
    with pytest.raises(OrderInputError) as refused:
        place(fill_in_account, buyer, [(sku, 9)], backorder_policy=BackorderPolicy.NONE)
    # then the 3 the order would have are below the minimum, and nothing changed
    assert refused.value.message_dict["lines"] == [
        "A fill-in order needs at least 6 pairs; this one has 3 (6 more cannot be had)."
    ]
    assert not OrderLine.objects.filter(sku=sku).exists()
    assert StockLevel.objects.get(sku=sku).allocated == 0


def test_the_confirmation_shows_cancelled_pairs_and_why(fill_in_account, buyer, warehouse):

    sku = stocked_sku(warehouse=warehouse, on_hand=6)
    inbound_for(sku=sku, warehouse=warehouse)
    place(fill_in_account, buyer, [(sku, 9)], backorder_policy=BackorderPolicy.NONE)

    rendered = render_message(Message.objects.get(kind="order_confirmation"))
    line = OrderLine.objects.get()
    for body in (rendered.text, rendered.html):
        assert "3 cancelled" in body
        assert line.cancel_reason in body


def test_seasonal_style_is_never_backordered(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse, on_hand=6, replenishment=Replenishment.SEASONAL)
    inbound_for(sku=sku, warehouse=warehouse)
    line = place(fill_in_account, buyer, [(sku, 8)]).order.lines.get()
    assert (line.allocated, line.backordered, line.cancelled) == (6, 0, 2)
    assert line.cancel_reason == NoPromiseReason.NOT_COMMITTED


def test_run_beyond_the_window_is_not_promised(fill_in_account, buyer, warehouse, terms):
    stocked = stocked_sku(warehouse=warehouse, on_hand=6)
    sku = stocked_sku(warehouse=warehouse, on_hand=0)
    inbound_for(sku=sku, warehouse=warehouse, days=terms.backorder_window_days + 10)
    order = place(fill_in_account, buyer, [(stocked, 6), (sku, 8)]).order
    line = order.lines.get(sku=sku)
    assert (line.allocated, line.backordered, line.cancelled) == (0, 0, 8)
    assert line.cancel_reason == NoPromiseReason.BEYOND_WINDOW
    assert order.status == OrderStatus.OPEN


def test_cancel_date_shortens_the_window(fill_in_account, buyer, warehouse):
    stocked = stocked_sku(warehouse=warehouse, on_hand=6)
    sku = stocked_sku(warehouse=warehouse, on_hand=0)
    inbound_for(sku=sku, warehouse=warehouse, days=21)
    cancel = timezone.localdate() + dt.timedelta(days=10)
    order = place(fill_in_account, buyer, [(stocked, 6), (sku, 8)], cancel_date=cancel).order
    line = order.lines.get(sku=sku)
    assert line.backordered == 0
    assert line.cancelled == 8


def test_prices_come_from_the_catalogue(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse, price=Decimal("41.50"))
    order = place(fill_in_account, buyer, [(sku, 12)]).order
    assert order.lines.get().unit_price == Decimal("41.50")
    assert order.subtotal == Decimal("498.00")


# --- Who may order ----------------------------------------------------------------------


def test_viewer_may_not_order(fill_in_account, viewer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    before = counts()
    with pytest.raises(OrderNotAllowed):
        place(fill_in_account, viewer, [(sku, 6)])
    assert counts() == before


def test_other_accounts_buyer_may_not_order(fill_in_account, other_buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    with pytest.raises(OrderNotAllowed):
        place(fill_in_account, other_buyer, [(sku, 6)])
    assert not Order.objects.filter(lines__isnull=False).exists()


def test_rep_orders_for_an_assigned_account_and_is_recorded(fill_in_account, warehouse):
    rep = RepFactory()
    fill_in_account.rep = rep
    fill_in_account.save()
    sku = stocked_sku(warehouse=warehouse)
    order = place(fill_in_account, rep, [(sku, 6)], source=OrderSource.REP).order
    assert order.placed_by == rep
    assert order.source == OrderSource.REP
    with pytest.raises(OrderNotAllowed):
        place(AccountFactory(), rep, [(sku, 6)])


def test_credit_hold_is_refused(fill_in_account, buyer, warehouse):
    fill_in_account.credit_status = CreditStatus.HOLD
    fill_in_account.save()
    sku = stocked_sku(warehouse=warehouse)
    with pytest.raises(OrderInputError) as error:
        place(fill_in_account, buyer, [(sku, 6)])
    assert "account" in error.value.message_dict


# --- Bad input: every problem named, nothing changed -------------------------------------


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "at least 1"),
        (-3, "at least 1"),
        (10**12, "at most"),
        ("abc", "whole number"),
        (2.5, "whole number"),
        (True, "whole number"),
        (None, "whole number"),
        (float("inf"), "whole number"),
    ],
)
def test_bad_quantities_are_named_by_line(fill_in_account, buyer, warehouse, quantity, message):
    sku = stocked_sku(warehouse=warehouse)
    other = stocked_sku(warehouse=warehouse)
    before = counts()
    with pytest.raises(OrderInputError) as error:
        place(fill_in_account, buyer, [(other, 6), (sku, quantity)])
    assert message in error.value.message_dict["lines[1].quantity"][0]
    assert "lines[0].quantity" not in error.value.message_dict
    assert counts() == before


def test_unknown_inactive_blank_and_duplicate_skus(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    gone = stocked_sku(warehouse=warehouse, active=False)
    before = counts()
    with pytest.raises(OrderInputError) as error:
        place(
            fill_in_account,
            buyer,
            [(sku, 6), ("NOPE-1", 6), (gone, 6), (None, 6), (sku.code.lower(), 6)],
        )
    errors = error.value.message_dict
    assert "Unknown SKU" in errors["lines[1].sku"][0]
    assert "no longer sold" in errors["lines[2].sku"][0]
    assert errors["lines[3].sku"] == ["Enter a SKU."]
    assert "already on line 0" in errors["lines[4].sku"][0]
    assert counts() == before


def test_bad_header_fields_are_named(fill_in_account, buyer, warehouse, other_account):
    sku = stocked_sku(warehouse=warehouse)
    today = timezone.localdate()
    with pytest.raises(OrderInputError) as error:
        place(
            fill_in_account,
            buyer,
            [(sku, 6)],
            po_number="x" * 41,
            ship_to=other_account.ship_tos.get().pk,
            requested_ship_date=today - dt.timedelta(days=1),
            cancel_date=today + dt.timedelta(days=1000),
            backorder_policy="sometimes",
        )
    errors = error.value.message_dict
    assert set(errors) == {
        "po_number",
        "ship_to",
        "requested_ship_date",
        "cancel_date",
        "backorders",
    }


def test_cancel_date_before_requested_date(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    today = timezone.localdate()
    with pytest.raises(OrderInputError) as error:
        place(
            fill_in_account,
            buyer,
            [(sku, 6)],
            requested_ship_date=today + dt.timedelta(days=10),
            cancel_date=today + dt.timedelta(days=5),
        )
    assert "before the requested" in error.value.message_dict["cancel_date"][0]


def test_no_lines_and_overlong_key(fill_in_account, buyer):
    with pytest.raises(OrderInputError) as error:
        place(fill_in_account, buyer, [])
    assert "lines" in error.value.message_dict
    with pytest.raises(OrderInputError) as error:
        place(fill_in_account, buyer, [], idempotency_key="k" * 300)
    assert "idempotency_key" in error.value.message_dict


def test_ship_to_of_the_account_is_used(fill_in_account, buyer, warehouse):
    second = ShipToFactory(account=fill_in_account, label="Second store", is_default=False)
    sku = stocked_sku(warehouse=warehouse)
    order = place(fill_in_account, buyer, [(sku, 6)], ship_to=second.pk).order
    assert order.ship_to == second
    default = place(fill_in_account, buyer, [(sku, 6)]).order
    assert default.ship_to.is_default


# --- Minimums and freight -----------------------------------------------------------------


def test_opening_order_minimum_is_value(account, buyer, warehouse, terms):
    sku = stocked_sku(warehouse=warehouse, price=Decimal("60.00"))
    with pytest.raises(OrderInputError) as error:
        place(account, buyer, [(sku, 12)])  # $720 < $1000
    assert "opening order" in error.value.message_dict["lines"][0]
    order = place(account, buyer, [(sku, 17)]).order  # $1020
    assert order.is_opening_order


def test_fill_in_of_twelve_pairs_is_allowed(fill_in_account, buyer, warehouse, terms):
    sku = stocked_sku(warehouse=warehouse, price=Decimal("60.00"))
    order = place(fill_in_account, buyer, [(sku, 12)]).order
    assert not order.is_opening_order
    assert order.lines.get().quantity == 12


def test_fill_in_below_its_minimum_pairs_is_refused(fill_in_account, buyer, warehouse, terms):
    sku = stocked_sku(warehouse=warehouse)
    with pytest.raises(OrderInputError) as error:
        place(fill_in_account, buyer, [(sku, terms.fill_in_minimum_pairs - 1)])
    assert "fill-in" in error.value.message_dict["lines"][0]


def test_freight_below_and_at_the_threshold(fill_in_account, buyer, warehouse, terms):
    sku = stocked_sku(warehouse=warehouse, price=Decimal("50.00"))
    below = place(fill_in_account, buyer, [(sku, 6)]).order  # $300
    assert below.freight == terms.flat_freight
    assert below.total == Decimal("300.00") + terms.flat_freight
    at = place(fill_in_account, buyer, [(sku, 10)]).order  # $500
    assert at.freight == Decimal("0.00")
    assert at.total == Decimal("500.00")


def test_account_free_freight_override(fill_in_account, buyer, warehouse):
    fill_in_account.free_freight_threshold = Decimal("250.00")
    fill_in_account.save()
    sku = stocked_sku(warehouse=warehouse, price=Decimal("50.00"))
    assert place(fill_in_account, buyer, [(sku, 6)]).order.freight == Decimal("0.00")


# --- Idempotency ----------------------------------------------------------------------------


def test_same_key_same_request_returns_the_same_order(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    first = place(fill_in_account, buyer, [(sku, 6)], idempotency_key="k-1")
    again = place(fill_in_account, buyer, [(sku, 6)], idempotency_key="k-1")
    assert first.created
    assert not again.created
    assert again.order.pk == first.order.pk
    assert StockLevel.objects.get(sku=sku).allocated == 6


def test_same_key_other_request_is_refused(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    place(fill_in_account, buyer, [(sku, 6)], idempotency_key="k-2")
    with pytest.raises(IdempotencyKeyReused):
        place(fill_in_account, buyer, [(sku, 7)], idempotency_key="k-2")
    assert Order.objects.filter(idempotency_key="k-2").count() == 1


def test_same_key_in_another_account_is_another_order(
    fill_in_account, buyer, other_account, other_buyer, warehouse
):
    from tests.orders.conftest import make_fill_in

    make_fill_in(other_account)
    sku = stocked_sku(warehouse=warehouse)
    a = place(fill_in_account, buyer, [(sku, 6)], idempotency_key="shared").order
    b = place(other_account, other_buyer, [(sku, 6)], idempotency_key="shared").order
    assert a.pk != b.pk


def test_retry_of_an_opening_order_returns_it(account, buyer, warehouse):
    # given an opening order of few, expensive pairs (below the fill-in minimum of pairs)
    sku = stocked_sku(warehouse=warehouse, price=Decimal("300.00"))
    first = place(account, buyer, [(sku, 4)], idempotency_key="open-1")
    # when the client retries it (the account now has an order: a retry looks like a fill-in)
    again = place(account, buyer, [(sku, 4)], idempotency_key="open-1")
    # then the same order is returned rather than a minimum error
    assert again.order.pk == first.order.pk
    assert not again.created


# --- Confirmation through the outbox --------------------------------------------------------


def test_confirmation_is_written_to_the_outbox(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    order = place(fill_in_account, buyer, [(sku, 6)]).order
    message = Message.objects.get(key=f"order-confirmation:{order.pk}:{buyer.pk}")
    assert message.context["order_number"] == order.number
    assert message.context["lines"][0]["allocated"] == 6


def test_confirmation_follows_each_persons_preference_read_with_the_members(
    fill_in_account, buyer, warehouse
):
    # given one member who turned confirmations off, one who takes them in the digest,
    # and a rep (not a member, whose preference is read apart) who also turned them off
    quiet = MembershipFactory(account=fill_in_account).user
    digest = MembershipFactory(account=fill_in_account).user
    rep = RepFactory()
    fill_in_account.rep = rep
    fill_in_account.save()
    NotificationPreferenceFactory(user=quiet, kind="order_confirmation", enabled=False)
    NotificationPreferenceFactory(user=digest, kind="order_confirmation", mode="digest")
    NotificationPreferenceFactory(user=rep, kind="order_confirmation", enabled=False)
    sku = stocked_sku(warehouse=warehouse)
    # when the rep places an order for the account
    order = place(fill_in_account, rep, [(sku, 6)]).order
    # then each confirmation row carries its recipient's choice
    status = dict(
        Message.objects.filter(key__startswith=f"order-confirmation:{order.pk}:").values_list(
            "recipient", "status"
        )
    )
    assert status == {
        buyer.pk: MessageStatus.PENDING,
        quiet.pk: MessageStatus.SKIPPED,
        digest.pk: MessageStatus.HELD,
        rep.pk: MessageStatus.SKIPPED,
    }


def test_confirmation_tells_a_backordered_line_the_date_of_its_run(
    fill_in_account, buyer, warehouse
):
    # given 4 in stock and a run in three weeks; 10 ordered, so 6 wait for the run
    sku = stocked_sku(warehouse=warehouse, on_hand=4)
    inbound_for(sku=sku, warehouse=warehouse, days=21)
    order = place(fill_in_account, buyer, [(sku, 10)]).order
    # the confirmation, written in the placing transaction, carries the split as placed
    line = order.lines.get()
    message = Message.objects.get(key=f"order-confirmation:{order.pk}:{buyer.pk}")
    (stored,) = message.context["lines"]
    assert (stored["allocated"], stored["backordered"]) == (4, 6)
    # and the worker renders it with the date from the run, read from the ETA table then
    expected = line_expected_dates(lines=[line])[line.pk]
    (told,) = context_complete(message.kind, message.context)["lines"]
    assert told["expected_date"] == expected.isoformat()
    assert "6 backordered, expected" in render_message(message).text


def test_the_confirmation_is_written_without_a_read_and_rendered_after_the_commit(
    fill_in_account, buyer, warehouse, django_assert_max_num_queries
):
    # given a style with a picture and a line that waits for a run
    sku = stocked_sku(warehouse=warehouse, on_hand=4)
    StyleImage.objects.create(
        style=sku.style, color="", original="x.jpg", thumb="styles/thumb.jpg", alt_text="Shoe"
    )
    inbound_for(sku=sku, warehouse=warehouse, days=21)
    order = place(fill_in_account, buyer, [(sku, 10)]).order
    message = Message.objects.get(key=f"order-confirmation:{order.pk}:{buyer.pk}")
    # the stored row holds neither the picture nor the expected date (reads the
    # placement no longer makes); rendering adds both, in a bounded number of reads
    assert "picture" not in message.context["lines"][0]
    assert "expected_date" not in message.context["lines"][0]
    with django_assert_max_num_queries(7):
        rendered = render_message(message)
    assert "thumb.jpg" in rendered.html
    assert "expected" in rendered.text


def test_nothing_is_written_when_placement_fails(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    before = counts()
    with pytest.raises(OrderInputError):
        place(fill_in_account, buyer, [(sku, 6), ("missing", 1)])
    assert counts() == before


# --- The line invariant in the database ------------------------------------------------------


def test_database_rejects_a_broken_split(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse)
    line = place(fill_in_account, buyer, [(sku, 6)]).order.lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(allocated=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(quantity=7)
    line.refresh_from_db()
    assert line.quantity == line.allocated + line.backordered + line.shipped + line.cancelled


def test_database_rejects_more_cancelled_at_placement_than_cancelled(
    fill_in_account, buyer, warehouse
):
    sku = stocked_sku(warehouse=warehouse)
    line = place(fill_in_account, buyer, [(sku, 6)]).order.lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(cancelled_at_placement=1)
    line.refresh_from_db()
    assert line.cancelled_at_placement <= line.cancelled


def test_database_rejects_allocating_more_than_on_hand(warehouse):
    sku = stocked_sku(warehouse=warehouse, on_hand=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(sku=sku).update(allocated=6)


# --- Cancelling ------------------------------------------------------------------------------


def test_cancel_releases_stock_and_pegs_at_once(fill_in_account, buyer, warehouse):
    sku = stocked_sku(warehouse=warehouse, on_hand=4)
    inbound = inbound_for(sku=sku, warehouse=warehouse)
    order = place(fill_in_account, buyer, [(sku, 10)]).order
    line = order.lines.get()
    # cancel 7: the 6 backordered first, then 1 allocated
    order_cancel(order=order, user=buyer, lines=[CancelRequest(line.pk, 7)])
    line.refresh_from_db()
    inbound.refresh_from_db()
    assert (line.allocated, line.backordered, line.cancelled) == (3, 0, 7)
    assert inbound.promised == 0
    assert not BackorderPeg.objects.filter(line=line).exists()
    assert StockLevel.objects.get(sku=sku).allocated == 3
    order_cancel(order=order, user=buyer)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.total == Decimal("0.00")
    assert StockLevel.objects.get(sku=sku).allocated == 0


def test_cancel_bad_requests_change_nothing(fill_in_account, buyer, warehouse, other_buyer):
    sku = stocked_sku(warehouse=warehouse)
    order = place(fill_in_account, buyer, [(sku, 6)]).order
    line = order.lines.get()
    before = counts()
    with pytest.raises(OrderInputError) as error:
        order_cancel(
            order=order,
            user=buyer,
            lines=[CancelRequest(line.pk, 99), CancelRequest(999999), CancelRequest("x")],
        )
    assert set(error.value.message_dict) == {"lines[0].quantity", "lines[1].id", "lines[2].id"}
    with pytest.raises(OrderNotAllowed):
        order_cancel(order=order, user=other_buyer)
    assert counts() == before


def test_totals_refresh_recomputes_many_orders_in_three_queries_and_writes_only_moved_ones(
    fill_in_account, django_assert_max_num_queries
):
    orders = [
        allocated_order_create(
            account=fill_in_account, lines=[(SKUFactory(), 4), (SKUFactory(), 2)]
        )
        for _ in range(5)
    ]
    moved, shipped = orders[0], orders[1]
    moved_line = moved.lines.first()
    OrderLine.objects.filter(pk=moved_line.pk).update(allocated=1, cancelled=3)
    shipped.lines.update(allocated=0, shipped=F("quantity"))
    with django_assert_max_num_queries(3):
        orders_totals_refresh(order_ids=[order.pk for order in orders])
    moved.refresh_from_db()
    expected = sum(line.unit_price * (line.quantity - line.cancelled) for line in moved.lines.all())
    assert moved.subtotal == expected
    assert moved.total == moved.subtotal + moved.freight
    shipped.refresh_from_db()
    assert shipped.status == OrderStatus.SHIPPED
    with django_assert_max_num_queries(2):  # nothing moved: nothing written
        orders_totals_refresh(order_ids=[order.pk for order in orders])
