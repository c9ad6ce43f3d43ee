"""The events a webhook endpoint can subscribe to."""

from django.db import models


class WebhookEvent(models.TextChoices):
    ORDER_PLACED = "order.placed", "Order placed"
    ORDER_CHANGED = "order.changed", "Order changed"
    ORDER_CANCELLED = "order.cancelled", "Order cancelled"
    SHIPMENT_CREATED = "shipment.created", "Shipment created"
    INVOICE_ISSUED = "invoice.issued", "Invoice issued"
    CREDIT_MEMO_ISSUED = "credit_memo.issued", "Credit memo issued"
    BACKORDER_ETA_CHANGED = "backorder.eta_changed", "Backorder ETA changed"
    BACKORDER_DECISION_REQUESTED = "backorder.decision_requested", "Backorder decision requested"
