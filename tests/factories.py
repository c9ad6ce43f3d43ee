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
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)


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
