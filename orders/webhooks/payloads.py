"""The ``data`` of each orders event, from rows the event already holds in memory (no
queries). Money is a decimal string, dates ISO 8601, as in the API."""

from django.utils import timezone


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def order_lines_data(lines) -> list[dict]:
    return [
        {
            "id": line.pk,
            "sku": line.sku.code,
            "quantity": line.quantity,
            "allocated": line.allocated,
            "backordered": line.backordered,
            "shipped": line.shipped,
            "cancelled": line.cancelled,
            "unit_price": str(line.unit_price),
            "promised_date": _iso(line.promised_date),
            "cancel_reason": line.cancel_reason,
        }
        for line in sorted(lines, key=lambda line: line.pk)
    ]


def order_data(*, order, lines) -> dict:
    return {
        "order": order.number,
        "po_number": order.po_number,
        "status": str(order.status),
        "source": str(order.source),
        "subtotal": str(order.subtotal),
        "freight": str(order.freight),
        "total": str(order.total),
        "lines": order_lines_data(lines),
    }


def shipment_data(*, shipment, shipped) -> dict:
    return {
        "shipment": shipment.number,
        "order": shipment.order.number,
        "po_number": shipment.order.po_number,
        "carrier": shipment.carrier,
        "tracking": shipment.tracking,
        "shipped_at": _iso(shipment.shipped_at),
        "lines": [{"id": line.pk, "sku": line.sku.code, "quantity": qty} for line, qty in shipped],
    }


def invoice_data(*, invoice) -> dict:
    return {
        "invoice": invoice.number,
        "order": invoice.order.number,
        "shipment": invoice.shipment.number if invoice.shipment_id else None,
        "issued_on": _iso(invoice.issued_on),
        "due_on": _iso(invoice.due_on),
        "subtotal": str(invoice.subtotal),
        "freight": str(invoice.freight),
        "total": str(invoice.total),
        "status": str(invoice.status),
    }


def credit_memo_data(*, memo) -> dict:
    return {
        "credit_memo": memo.number,
        "invoice": memo.invoice.number,
        "order": memo.invoice.order.number,
        "amount": str(memo.amount),
        "reason": str(memo.reason),
        "issued_on": _iso(memo.issued_on or timezone.localdate()),
    }
