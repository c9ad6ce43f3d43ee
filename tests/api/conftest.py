"""A little of everything for the API tests: two retailer accounts, each with an order
(one line allocated, one backordered), a shipment and its invoice, and an integration
user holding the brand's staff role."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.base import ContentFile

from inventory.models import SKU
from orders.models import (
    Account,
    Claim,
    CreditMemo,
    Invoice,
    Order,
    OrderLine,
    ReturnAuthorization,
    Shipment,
)
from orders.services import LineRequest, order_place
from orders.services.fulfilment import credit_memo_issue, return_authorize, shipment_confirm
from orders.webhooks.models import Endpoint
from orders.webhooks.services import endpoint_subscribe
from portal.roles import StaffRole, staff_groups_ensure
from tests.claims.conftest import claim_with_photo_create
from tests.conftest import api_client_for
from tests.factories import UserFactory, allocated_order_create
from tests.orders.conftest import inbound_for, make_fill_in, stocked_sku

PDF_BYTES = b"%PDF-1.4\n% test invoice\n"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@dataclass
class Tenant:
    account: Account
    order: Order
    backordered_line: OrderLine
    shipment: Shipment
    invoice: Invoice
    credit_memo: CreditMemo
    return_authorization: ReturnAuthorization
    claim: Claim
    webhook: Endpoint


@dataclass
class World:
    sku: SKU
    backorderable: SKU
    run_reference: str
    mine: Tenant
    theirs: Tenant


def tenant_create(*, account, user, sku, backorderable, tracking) -> Tenant:
    make_fill_in(account)
    placed = order_place(
        account=account,
        user=user,
        lines=[LineRequest(sku.code, 6), LineRequest(backorderable.code, 12)],
        po_number=f"PO-{account.number}",
    ).order
    backordered_line = placed.lines.get(sku=backorderable)
    assert backordered_line.backordered == 12
    shipped = allocated_order_create(account=account, lines=[(sku, 6)], po_number="PO-SHIP")
    result = shipment_confirm(
        order=shipped, carrier="UPS", tracking=tracking, lines=[(sku.code, 6)], user=None
    )
    invoice = result.invoice
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(PDF_BYTES), save=True)
    claim = claim_with_photo_create(shipment=result.shipment, user=user, sku_code=sku.code)
    memo = credit_memo_issue(invoice=invoice, amount="10.00", reason="damaged", user=None)
    memo.pdf.save(f"{memo.number}.pdf", ContentFile(PDF_BYTES), save=True)
    authorization = return_authorize(
        order=shipped, lines=[{"sku": sku.code, "quantity": 2}], reason="damaged", user=None
    )
    webhook = endpoint_subscribe(
        user=user, url="https://93.184.216.34/hooks", events=["order.placed"], account=account
    ).endpoint
    return Tenant(
        account,
        placed,
        backordered_line,
        result.shipment,
        invoice,
        memo,
        authorization,
        claim,
        webhook,
    )


@pytest.fixture
def world(account, other_account, buyer, other_buyer, warehouse) -> World:
    sku = stocked_sku(warehouse=warehouse, on_hand=500)
    backorderable = stocked_sku(warehouse=warehouse, on_hand=0)
    line = inbound_for(sku=backorderable, warehouse=warehouse, quantity=200)
    mine = tenant_create(
        account=account,
        user=buyer,
        sku=sku,
        backorderable=backorderable,
        tracking="1Z999AA10123456784",
    )
    theirs = tenant_create(
        account=other_account,
        user=other_buyer,
        sku=sku,
        backorderable=backorderable,
        tracking="1Z999AA10123456785",
    )
    return World(sku, backorderable, line.run.reference, mine, theirs)


@pytest.fixture
def integration_user(db):
    """As seed_demo makes integration@: the integration role, and not staff (no admin)."""
    staff_groups_ensure()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=StaffRole.INTEGRATION.value))
    return user


@pytest.fixture
def integration_api(integration_user):
    return api_client_for(integration_user)
