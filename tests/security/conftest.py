"""Two retailers with a little of everything (an order with an allocated and a
backordered line, a shipment, an invoice, a credit memo, a pending decision with its
signed link, a notification, a cart line), and the people who look at them."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse
from knox.models import AuthToken

from backorders.models import DecisionRequest
from backorders.services.eta import eta_change
from backorders.services.links import decision_token, decisions_token
from inventory.models import SKU, InboundRun
from notifications.models import Message
from orders.models import (
    Account,
    Claim,
    CreditMemo,
    Invoice,
    Order,
    OrderLine,
    ReturnAuthorization,
    Shipment,
    StockAlert,
)
from orders.services import LineRequest, order_place
from orders.services.cart import cart_lines_add
from orders.services.fulfilment import credit_memo_issue, return_authorize, shipment_confirm
from orders.services.stock_alerts import stock_alert_request
from portal.models import User
from tests.claims.conftest import claim_with_photo_create
from tests.factories import (
    AccountFactory,
    InboundLineFactory,
    InboundRunFactory,
    MembershipFactory,
    RepFactory,
    ShipToFactory,
    SKUFactory,
    StockLevelFactory,
    StyleFactory,
    UserFactory,
)
from tests.orders.conftest import make_fill_in

PDF_BYTES = b"%PDF-1.4\n% test document\n"


@pytest.fixture(autouse=True)
def _fresh_cache_and_no_broker(monkeypatch):
    """Throttle and lockout counters live in the cache; outbox kicks and statement renders
    would try the broker."""
    monkeypatch.setattr("notifications.services.delivery_kick", lambda ids: 0)
    monkeypatch.setattr(
        "orders.tasks.statement_render_task.apply_async", lambda args, **kwargs: None
    )
    cache.clear()
    yield
    cache.clear()


@dataclass
class Tenant:
    account: Account
    buyer: User
    order: Order
    allocated_line: OrderLine
    backordered_line: OrderLine
    shipment: Shipment
    invoice: Invoice
    credit_memo: CreditMemo
    return_authorization: ReturnAuthorization
    decision: DecisionRequest
    token: str
    message: Message
    cart_sku: SKU
    claim: Claim = None
    alert: StockAlert = None
    secrets: list[str] = field(default_factory=list)


@dataclass
class World:
    alpha: Tenant
    beta: Tenant
    stocked: SKU
    backorderable: SKU
    run: InboundRun
    rep_of_beta: User
    rep_of_none: User
    alpha_token_digest: str


def _today():
    from django.utils import timezone

    return timezone.localdate()


def tenant_create(*, name, po, stocked, backorderable, run, warehouse, tracking) -> Tenant:
    account = AccountFactory(name=name)
    ShipToFactory(account=account, line1=f"{po} Harbour Road")
    buyer = MembershipFactory(account=account, user=UserFactory()).user
    make_fill_in(account)
    order = order_place(
        account=account,
        user=buyer,
        lines=[LineRequest(stocked.code, 12), LineRequest(backorderable.code, 6)],
        po_number=po,
    ).order
    allocated_line = order.lines.get(sku=stocked)
    backordered_line = order.lines.get(sku=backorderable)
    assert (allocated_line.allocated, backordered_line.backordered) == (12, 6)
    result = shipment_confirm(
        order=order, carrier="UPS", tracking=tracking, lines=[(stocked.code, 4)], user=None
    )
    invoice = result.invoice
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(PDF_BYTES), save=True)
    memo = credit_memo_issue(
        invoice=invoice, amount=Decimal("5.00"), reason="damaged", note="", user=None
    )
    memo.pdf.save(f"{memo.number}.pdf", ContentFile(PDF_BYTES), save=True)
    authorization = return_authorize(
        order=order, lines=[{"sku": stocked.code, "quantity": 1}], reason="damaged", user=None
    )
    authorization.label_pdf.save(f"{authorization.number}.pdf", ContentFile(PDF_BYTES), save=True)
    shipment = result.shipment
    cart_sku = SKUFactory(style=stocked.style, color="Cart")
    StockLevelFactory(sku=cart_sku, warehouse=warehouse, on_hand=50)
    cart_lines_add(user=buyer, account=account, lines=[LineRequest(cart_sku.code, 3)])
    claim = claim_with_photo_create(shipment=result.shipment, user=buyer, sku_code=stocked.code)
    alert = stock_alert_request(user=buyer, account=account, sku_code=backorderable.code)
    return Tenant(
        account=account,
        buyer=buyer,
        order=order,
        allocated_line=allocated_line,
        backordered_line=backordered_line,
        shipment=shipment,
        invoice=invoice,
        credit_memo=memo,
        return_authorization=authorization,
        decision=None,
        token="",
        message=None,
        cart_sku=cart_sku,
        claim=claim,
        alert=alert,
    )


@pytest.fixture
def world(terms, warehouse) -> World:
    terms.opening_order_minimum = Decimal("0.00")
    terms.fill_in_minimum_pairs = 1
    terms.save()
    stocked = SKUFactory(style=StyleFactory(name="Ridge Walker"))
    StockLevelFactory(sku=stocked, warehouse=warehouse, on_hand=500)
    backorderable = SKUFactory(style=StyleFactory(name="Harbor Clog"))
    StockLevelFactory(sku=backorderable, warehouse=warehouse, on_hand=0)
    run = InboundRunFactory(warehouse=warehouse, eta=_today() + dt.timedelta(days=14))
    InboundLineFactory(run=run, sku=backorderable, quantity=200)
    alpha = tenant_create(
        name="Alderbrook Footwear",
        po="PO-ALDER-7731",
        stocked=stocked,
        backorderable=backorderable,
        run=run,
        warehouse=warehouse,
        tracking="1Z999AA10123456784",
    )
    beta = tenant_create(
        name="Birchwood Shoes",
        po="PO-BIRCH-4410",
        stocked=stocked,
        backorderable=backorderable,
        run=run,
        warehouse=warehouse,
        tracking="1Z999AA10123456785",
    )
    # An ETA far beyond both windows: each backordered line gets a decision request,
    # and each buyer a message carrying their own signed link.
    run.refresh_from_db()
    eta_change(run=run, new_eta=_today() + dt.timedelta(days=200), reason="Factory", user=None)
    for tenant in (alpha, beta):
        tenant.decision = DecisionRequest.objects.get(line=tenant.backordered_line)
        tenant.token = decision_token(request_id=tenant.decision.pk, user_id=tenant.buyer.pk)
        tenant.event_token = decisions_token(
            eta_change_id=tenant.decision.eta_change_id,
            account_id=tenant.account.pk,
            user_id=tenant.buyer.pk,
        )
        tenant.message = Message.objects.filter(recipient=tenant.buyer).order_by("pk").first()
        assert tenant.message is not None
        tenant.secrets = [
            tenant.order.number,
            tenant.order.po_number,
            tenant.invoice.number,
            tenant.shipment.number,
            tenant.credit_memo.number,
            tenant.claim.number,
            tenant.claim.case.number,
            tenant.account.name,
            tenant.buyer.email,
            f"{tenant.order.po_number} Harbour Road",
        ]
    rep_of_beta = RepFactory()
    Account.objects.filter(pk=beta.account.pk).update(rep=rep_of_beta)
    rep_of_none = RepFactory()
    AuthToken.objects.create(user=alpha.buyer)
    digest = AuthToken.objects.get(user=alpha.buyer).digest
    return World(alpha, beta, stocked, backorderable, run, rep_of_beta, rep_of_none, digest)


def login_url() -> str:
    return reverse("login")
