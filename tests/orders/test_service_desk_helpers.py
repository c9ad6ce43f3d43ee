"""Set-ups shared by the service-desk, audit and admin tests."""

from decimal import Decimal

from django.contrib.auth.models import Group

from orders.models import CaseChannel, CaseReason
from orders.services import service_desk
from orders.services.fulfilment import shipment_confirm
from portal.roles import StaffRole, staff_groups_ensure
from tests.factories import SKUFactory, StaffFactory, allocated_order_create


def staff_with(role: StaffRole | None, **kwargs):
    staff_groups_ensure()
    user = StaffFactory(**kwargs)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


def shipped_order(*, account, price="100.00", quantity=10):
    """An order fully shipped and invoiced: quantity x price, no freight."""
    sku = SKUFactory(price=Decimal(price))
    order = allocated_order_create(account=account, lines=[(sku, quantity)], freight=Decimal("0"))
    result = shipment_confirm(
        order=order,
        carrier="UPS",
        tracking=f"1Z{order.pk:08d}TRK",
        lines=[(sku.code, quantity)],
        user=None,
    )
    return order, result.invoice


def open_case(*, account, order=None, user):
    return service_desk.case_open(
        account=account,
        order=order,
        reason=CaseReason.DAMAGED,
        channel=CaseChannel.PHONE,
        summary="Two pairs arrived with crushed boxes.",
        user=user,
    )
