"""Back-in-stock alerts: asked for a size with nothing available, told once (by the
buyer's preference: at once or in the digest) when its ATS returns, through a receipt,
a count or anything else, and then ended. Nothing here writes stock."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backorders.services.receipts import run_receive
from backorders.services.stock import StockCountRequest, stock_sync
from inventory.models import StockLevel
from notifications.models import Message, MessageStatus, NotificationPreference
from orders.exceptions import OrderInputError, OrderNotAllowed
from orders.models import StockAlert, StockAlertStatus
from orders.services.stock_alerts import (
    stock_alert_cancel,
    stock_alert_request,
    stock_alerts_notify,
)
from orders.tasks import stock_alerts_notify_task
from tests.factories import InboundLineFactory, InboundRunFactory
from tests.orders.conftest import stocked_sku

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold_out(warehouse):
    return stocked_sku(warehouse=warehouse, on_hand=0)


def _restock(sku, on_hand=12):
    StockLevel.objects.filter(sku=sku).update(on_hand=on_hand)


def test_the_buyer_is_told_once_when_ats_returns_and_the_alert_ends(account, buyer, sold_out):
    alert = stock_alert_request(user=buyer, account=account, sku_code=sold_out.code)
    assert stock_alerts_notify().told == 0  # still nothing available

    _restock(sold_out)
    first = stock_alerts_notify()
    again = stock_alerts_notify()

    assert (first.told, again.told) == (1, 0)
    alert.refresh_from_db()
    assert alert.status == StockAlertStatus.SENT
    assert alert.ended_at is not None
    (message,) = Message.objects.filter(kind="back_in_stock")
    assert message.recipient == buyer
    assert message.status == MessageStatus.PENDING
    assert message.context["sku"] == sold_out.code
    assert message.context["ats"] == 12
    assert message.context["style_url"].endswith(f"/catalogue/{sold_out.style.number}/")


def test_a_buyer_who_prefers_the_digest_gets_it_there(account, buyer, sold_out):
    NotificationPreference.objects.create(user=buyer, kind="back_in_stock", mode="digest")
    stock_alert_request(user=buyer, account=account, sku_code=sold_out.code)
    _restock(sold_out)

    stock_alerts_notify()

    assert Message.objects.get(kind="back_in_stock").status == MessageStatus.HELD


def test_asking_twice_keeps_one_alert_and_a_size_in_stock_is_refused(account, buyer, warehouse):
    sold_out = stocked_sku(warehouse=warehouse, on_hand=0)
    in_stock = stocked_sku(warehouse=warehouse, on_hand=5)

    first = stock_alert_request(user=buyer, account=account, sku_code=sold_out.code)
    second = stock_alert_request(user=buyer, account=account, sku_code=sold_out.code.lower())

    assert first == second
    with pytest.raises(OrderInputError, match="available now"):
        stock_alert_request(user=buyer, account=account, sku_code=in_stock.code)
    with pytest.raises(OrderInputError, match="No SKU"):
        stock_alert_request(user=buyer, account=account, sku_code="NOPE")


def test_another_accounts_alert_cannot_be_asked_for_or_cancelled(
    account, other_account, buyer, other_buyer, sold_out
):
    with pytest.raises(OrderNotAllowed):
        stock_alert_request(user=buyer, account=other_account, sku_code=sold_out.code)
    theirs = stock_alert_request(user=other_buyer, account=other_account, sku_code=sold_out.code)

    assert stock_alert_cancel(user=buyer, alert_id=theirs.pk) is False
    assert stock_alert_cancel(user=other_buyer, alert_id=theirs.pk) is True
    _restock(sold_out)
    assert stock_alerts_notify().told == 0


def test_a_receipt_kicks_the_check_for_its_skus_after_commit(
    account, buyer, warehouse, sold_out, monkeypatch, django_capture_on_commit_callbacks
):
    run = InboundRunFactory(warehouse=warehouse, eta=timezone.localdate() + dt.timedelta(days=5))
    InboundLineFactory(run=run, sku=sold_out, quantity=24)
    stock_alert_request(user=buyer, account=account, sku_code=sold_out.code)
    queued = []
    monkeypatch.setattr(
        stock_alerts_notify_task, "apply_async", lambda args, **kw: queued.append(args)
    )

    with django_capture_on_commit_callbacks(execute=True):
        run_receive(run=run, user=None)

    assert queued == [[[sold_out.pk]]]
    assert stock_alerts_notify_task(*queued[0]) == 1


def test_a_count_upwards_kicks_the_check(
    account, buyer, warehouse, sold_out, monkeypatch, django_capture_on_commit_callbacks
):
    stock_alert_request(user=buyer, account=account, sku_code=sold_out.code)
    queued = []
    monkeypatch.setattr(
        stock_alerts_notify_task, "apply_async", lambda args, **kw: queued.append(args)
    )

    with django_capture_on_commit_callbacks(execute=True):
        stock_sync(counts=[StockCountRequest(sku=sold_out.code, on_hand=8)], user=None)

    assert queued == [[[sold_out.pk]]]


def test_the_periodic_run_pages_past_alerts_that_are_still_waiting(account, buyer, warehouse):
    skus = [stocked_sku(warehouse=warehouse, on_hand=0) for _ in range(3)]
    for sku in skus:
        stock_alert_request(user=buyer, account=account, sku_code=sku.code)
    _restock(skus[2])

    first = stock_alerts_notify(limit=2)
    second = stock_alerts_notify(after_id=first.last_id, limit=2)

    assert (first.told, first.more) == (0, True)
    assert (second.told, second.more) == (1, False)


def test_the_grid_offers_tell_me_for_empty_sizes_and_shows_alerts_set(
    account, buyer, sold_out, warehouse, django_assert_max_num_queries
):
    client = Client()
    client.force_login(buyer)
    url = reverse("portal:style_detail", args=[sold_out.style.number])

    page = client.get(url).content.decode()
    assert f'name="alert_sku" value="{sold_out.code}"' in page

    response = client.post(
        reverse("portal:stock_alert_new"), {"alert_sku": sold_out.code, "next": url}
    )
    assert response.status_code == 302
    assert response.url == url
    assert StockAlert.objects.filter(user=buyer, sku=sold_out, status="waiting").exists()
    page = client.get(url).content.decode()
    assert "Alert set" in page
    assert f'name="alert_sku" value="{sold_out.code}"' not in page
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("portal:stock_alerts"))
    assert sold_out.code in listing.content.decode()


def test_the_core_list_offers_tell_me_by_htmx(account, buyer, warehouse):
    core = stocked_sku(warehouse=warehouse, on_hand=0, core=True)
    client = Client()
    client.force_login(buyer)
    page = client.get(reverse("portal:quick_list", args=["core"])).content.decode()
    assert f'value="{core.code}"' in page

    response = client.post(
        reverse("portal:stock_alert_new"), {"sku": core.code}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "We will email you once" in response.content.decode()
    cancel = client.post(reverse("portal:stock_alert_cancel", args=[StockAlert.objects.get().pk]))
    assert cancel.status_code == 302
    assert StockAlert.objects.get().status == "cancelled"


@pytest.mark.parametrize("target", ["-1", "https://evil.example/", "/x\r\nX-Injected: 1", "//evil"])
def test_after_asking_the_buyer_goes_back_only_to_a_page_of_this_site(buyer, sold_out, target):
    client = Client()
    client.force_login(buyer)

    response = client.post(
        reverse("portal:stock_alert_new"), {"sku": sold_out.code, "next": target}
    )

    assert response.status_code == 302
    assert response.url == reverse("portal:stock_alerts")
