"""factory_boy factories for every app's models. Deterministic sequences, no network."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from inventory.models import (
    SKU,
    InboundLine,
    InboundRun,
    InboundStatus,
    Replenishment,
    StockLevel,
    Style,
    Warehouse,
    Width,
)
from orders.models import Account, CommercialTerms, Membership, MembershipRole, ShipTo
from portal.models import User

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password(TEST_PASSWORD)


class RepFactory(UserFactory):
    email = factory.Sequence(lambda n: f"rep{n}@trailwise.example")
    is_sales_rep = True


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@trailwise.example")
    is_staff = True


class CommercialTermsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommercialTerms
        django_get_or_create = ("version",)

    version = 1
    effective_from = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=365))


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    number = factory.Sequence(lambda n: f"A{n:05d}")
    name = factory.Sequence(lambda n: f"Comfort Shoes {n}")


class ShipToFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipTo

    account = factory.SubFactory(AccountFactory)
    label = "Main store"
    line1 = factory.Sequence(lambda n: f"{n} Main Street")
    city = "Burlington"
    region = "VT"
    postal_code = "05401"
    is_default = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory)
    role = MembershipRole.BUYER


class StyleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Style

    number = factory.Sequence(lambda n: f"ST{n:04d}")
    name = factory.Sequence(lambda n: f"Walker {n}")
    category = "Sneakers"
    replenishment = Replenishment.COMMITTED
    lead_time_days = 56


class SKUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SKU

    style = factory.SubFactory(StyleFactory)
    color = "Black"
    size = factory.Sequence(lambda n: Decimal("5.0") + Decimal("0.5") * (n % 17))
    width = Width.MEDIUM
    code = factory.Sequence(lambda n: f"SKU{n:06d}")
    upc = factory.Sequence(lambda n: f"{800000000000 + n}")
    price = Decimal("60.00")
    msrp = Decimal("130.00")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = "MAIN"
    name = "Main warehouse"
    is_default = True


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    sku = factory.SubFactory(SKUFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    on_hand = 100
    allocated = 0
    holdback = 0


class InboundRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundRun

    reference = factory.Sequence(lambda n: f"RUN-{n:05d}")
    warehouse = factory.SubFactory(WarehouseFactory)
    status = InboundStatus.CONFIRMED
    eta = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=21))
    # Last: the model field `factory` shadows the factory_boy module in this class body.
    factory = "Factory One"


class InboundLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundLine

    run = factory.SubFactory(InboundRunFactory)
    sku = factory.SubFactory(SKUFactory)
    quantity = 100


# --- notifications ---------------------------------------------------------------

from notifications.kinds import MessageKind  # noqa: E402
from notifications.models import (  # noqa: E402
    DeliveryMode,
    Message,
    MessageStatus,
    NotificationPreference,
)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    key = factory.Sequence(lambda n: f"test-event-{n}:1")
    kind = MessageKind.GENERIC
    recipient = factory.SubFactory(UserFactory)
    to_email = factory.LazyAttribute(lambda o: o.recipient.email)
    subject = factory.Sequence(lambda n: f"Note {n}")
    context = factory.LazyAttribute(lambda o: {"headline": o.subject, "body": "Hello."})
    status = MessageStatus.PENDING


class NotificationPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationPreference

    user = factory.SubFactory(UserFactory)
    kind = MessageKind.SHIPMENT
    enabled = True
    mode = DeliveryMode.IMMEDIATE


# --- orders: orders with allocated stock (fulfilment) --------------------------------

from orders.models import Allocation, Order, OrderLine  # noqa: E402


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: f"SO-{200000 + n}")
    po_number = factory.Sequence(lambda n: f"PO-{7000 + n}")
    terms = factory.SubFactory(CommercialTermsFactory)
    ship_to = factory.LazyAttribute(lambda o: o.account.ship_tos.filter(is_default=True).first())


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    sku = factory.SubFactory(SKUFactory)
    unit_price = factory.LazyAttribute(lambda o: o.sku.price)
    quantity = 12
    allocated = factory.LazyAttribute(lambda o: o.quantity)


def allocated_order_create(*, account, lines, on_hand=100, freight=None, **order_fields):
    """An order whose lines are fully allocated from stock, as placement leaves it:
    lines = [(sku, quantity)]; each SKU gets a default-warehouse stock level of `on_hand`
    with the line's quantity allocated against it. Totals follow the commercial terms."""
    from orders import rules

    order = OrderFactory(account=account, **order_fields)
    warehouse = WarehouseFactory()
    subtotal = Decimal("0.00")
    for sku, quantity in lines:
        level, _ = StockLevel.objects.get_or_create(
            sku=sku, warehouse=warehouse, defaults={"on_hand": on_hand}
        )
        StockLevel.objects.filter(pk=level.pk).update(allocated=level.allocated + quantity)
        line = OrderLineFactory(order=order, sku=sku, quantity=quantity)
        Allocation.objects.create(line=line, stock_level=level, quantity=quantity)
        subtotal += line.unit_price * quantity
    if freight is None:
        freight = rules.freight_quote(account=account, terms=order.terms, subtotal=subtotal).freight
    order.subtotal, order.freight = rules.money(subtotal), freight
    order.total = order.subtotal + freight
    order.save(update_fields=["subtotal", "freight", "total"])
    return order


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Case"

    account = factory.SubFactory(AccountFactory)
    reason = "late"
    channel = "phone"
    summary = "Retailer asked when the run lands."
    opened_by = factory.SubFactory(StaffFactory)
    opened_at = factory.LazyFunction(timezone.now)
