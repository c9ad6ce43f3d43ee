"""Invariant 5: every ETA shown comes from the ETA table (InboundRun.eta), derived at
read time and never copied. Move a run's ETA behind every service's back and each
surface (API, portal pages, rep view, admin, messages) must show the new date."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from inventory.selectors import ship_date_from_run
from notifications.kinds import context_complete
from notifications.models import Message
from orders.services import LineRequest, order_place
from portal.roles import StaffRole
from tests.factories import InboundLineFactory, OrderFactory, RepFactory, StockLevelFactory
from tests.orders.test_service_desk_helpers import staff_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting_order(account, buyer, warehouse, terms):
    sku = StockLevelFactory(warehouse=warehouse, on_hand=0).sku
    run = InboundLineFactory(sku=sku, quantity=100, run__warehouse=warehouse).run
    OrderFactory(account=account)  # a fill-in, not an opening order
    order = order_place(account=account, user=buyer, lines=[LineRequest(sku.code, 8)]).order
    return order, run, sku


def _move_eta_behind_the_services(run, days):
    """A raw UPDATE of the one ETA column: nothing else is told or rewritten."""
    new_eta = timezone.localdate() + dt.timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_inboundrun SET eta = %s WHERE id = %s", [new_eta, run.pk])
    return new_eta


def test_every_surface_shows_the_eta_table_date(
    client, buyer_api, buyer, account, waiting_order, terms
):
    order, run, sku = waiting_order
    new_eta = _move_eta_behind_the_services(run, days=61)
    expected = ship_date_from_run(eta=new_eta, terms=terms)
    shown = date_format(expected, "M j, Y")

    # API: the catalogue's next ETA, the production calendar and the order's expected date
    skus = buyer_api.get("/api/v1/skus/", {"q": sku.code}).json()["results"]
    assert skus[0]["next_eta"] == new_eta.isoformat()
    inbound = {r["reference"]: r for r in buyer_api.get("/api/v1/inbound/").json()["results"]}
    assert inbound[run.reference]["eta"] == new_eta.isoformat()
    line = buyer_api.get(f"/api/v1/orders/{order.number}/").json()["lines"][0]
    assert line["expected_date"] == expected.isoformat()

    # portal: the order page and the backorders page
    client.force_login(buyer)
    assert shown in client.get(reverse("portal:order_detail", args=[order.number])).content.decode()
    assert shown in client.get(reverse("portal:backorders")).content.decode()
    assert date_format(new_eta, "M j") in client.get(reverse("portal:calendar")).content.decode()

    # the rep's view of the account
    rep = RepFactory()
    account.rep = rep
    account.save(update_fields=["rep"])
    client.force_login(rep)
    rep_page = client.get(reverse("portal:rep_account", args=[account.pk])).content.decode()
    assert date_format(expected, "M j") in rep_page

    # customer service: the order page in the admin
    client.force_login(staff_with(StaffRole.CS_AGENT))
    admin_page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert expected.isoformat() in admin_page  # the line's expected date
    assert new_eta.isoformat() in admin_page  # its run's ETA


def test_a_message_written_after_the_move_carries_the_new_date(
    account, buyer, waiting_order, terms
):
    order, run, sku = waiting_order
    new_eta = _move_eta_behind_the_services(run, days=30)  # still inside the 45-day window
    # a second order waits on the same run; its confirmation is written now
    OrderFactory(account=account)
    later = order_place(account=account, user=buyer, lines=[LineRequest(sku.code, 6)]).order
    message = Message.objects.filter(key__startswith=f"order-confirmation:{later.pk}:").first()
    expected = ship_date_from_run(eta=new_eta, terms=terms).isoformat()
    # rendered (by the worker) from the ETA table: the date the run now carries
    told = context_complete(message.kind, message.context)["lines"][0]
    assert told["expected_date"] == expected
