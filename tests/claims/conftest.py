"""A shipped order for the claims tests: `account`'s buyer received 6 pairs of one SKU
and 4 of another on one shipment. Photos are made here with Pillow."""

import io
from dataclasses import dataclass

import pytest
from PIL import Image

from inventory.models import SKU
from orders.models import Claim, Shipment
from orders.services.claims import claim_file
from orders.services.fulfilment import shipment_confirm
from tests.factories import allocated_order_create
from tests.orders.conftest import stocked_sku


def photo_bytes(fmt="JPEG", size=(64, 48), color=(180, 40, 30), **save_options) -> bytes:
    mode = "RGBA" if fmt == "PNG" else "RGB"
    image = Image.new(mode, size, color)
    out = io.BytesIO()
    image.save(out, format=fmt, **save_options)
    return out.getvalue()


@dataclass
class Shipped:
    shipment: Shipment
    sku: SKU
    other_sku: SKU


def shipped_create(*, account, warehouse, tracking="1Z999AA10123456784") -> Shipped:
    sku = stocked_sku(warehouse=warehouse, on_hand=100)
    other_sku = stocked_sku(warehouse=warehouse, on_hand=100)
    order = allocated_order_create(account=account, lines=[(sku, 6), (other_sku, 4)])
    result = shipment_confirm(
        order=order,
        carrier="UPS",
        tracking=tracking,
        lines=[(sku.code, 6), (other_sku.code, 4)],
        user=None,
    )
    return Shipped(result.shipment, sku, other_sku)


def claim_with_photo_create(*, shipment, user, sku_code, quantity=1) -> Claim:
    return claim_file(
        user=user,
        shipment_number=shipment.number,
        reason="damaged",
        note="Crushed carton, two boxes torn.",
        lines=[{"sku": sku_code, "quantity": quantity}],
        photos=[photo_bytes("PNG")],
    )


@pytest.fixture
def shipped(account, warehouse) -> Shipped:
    return shipped_create(account=account, warehouse=warehouse)
