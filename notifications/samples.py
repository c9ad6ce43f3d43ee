"""Example contexts for every message kind: the schemas in kinds.py, filled in.

Used by ``manage.py notifications_preview`` (renders every kind to HTML files for a
look in a browser) and by the tests. Keep them realistic: they are the reference the
ordering, backorders and fulfilment code follows.
"""

from notifications.kinds import MessageKind

SITE = "https://portal.trailwise.example"

SAMPLE_CONTEXTS: dict[str, dict] = {
    MessageKind.ORDER_CONFIRMATION: {
        "account_name": "Comfort Shoes of Burlington",
        "order_number": "SO-10042",
        "po_number": "PO-7781",
        "placed_by": "Dana Reyes",
        "ship_to": "12 Church Street, Burlington VT 05401",
        "lines": [
            {
                "sku": "WLK-BLK-085M",
                "description": "Walker, Black, 8.5 M",
                "quantity": 12,
                "allocated": 12,
                "backordered": 0,
                "promised_date": "2026-03-18",
                "expected_date": "",
            },
            {
                "sku": "WLK-BLK-090M",
                "description": "Walker, Black, 9 M",
                "quantity": 12,
                "allocated": 8,
                "backordered": 4,
                "promised_date": "2026-04-09",
                "expected_date": "2026-04-09",
            },
            {
                "sku": "TRL-OLV-075W",
                "description": "Ridge Trail, Olive, 7.5 W",
                "quantity": 6,
                "allocated": 6,
                "backordered": 0,
                "promised_date": "2026-03-18",
                "expected_date": "",
            },
        ],
        "subtotal": "1860.00",
        "freight": "0.00",
        "total": "1860.00",
        "order_url": f"{SITE}/orders/SO-10042/",
    },
    MessageKind.ETA_MOVED: {
        "account_name": "Comfort Shoes of Burlington",
        "run_reference": "RUN-00012",
        "old_eta": "2026-04-01",
        "new_eta": "2026-04-15",
        "reason": "Sole supplier delivered late; the factory reopens production on March 20.",
        "lines": [
            {
                "order_number": "SO-10042",
                "po_number": "PO-7781",
                "sku": "WLK-BLK-090M",
                "description": "Walker, Black, 9 M",
                "quantity": 4,
                "old_date": "2026-04-09",
                "new_date": "2026-04-23",
            },
            {
                "order_number": "SO-10042",
                "po_number": "PO-7781",
                "sku": "WLK-BLK-095M",
                "description": "Walker, Black, 9.5 M",
                "quantity": 6,
                "old_date": "2026-04-09",
                "new_date": "2026-04-23",
            },
            {
                "order_number": "SO-10057",
                "po_number": "PO-7802",
                "sku": "WLK-BRN-080M",
                "description": "Walker, Brown, 8 M",
                "quantity": 3,
                "old_date": "2026-04-09",
                "new_date": "2026-04-23",
            },
        ],
        "orders_url": f"{SITE}/orders/",
    },
    MessageKind.DECISION_REQUEST: {
        "account_name": "Comfort Shoes of Burlington",
        "run_reference": "RUN-00012",
        "old_eta": "2026-04-01",
        "new_eta": "2026-04-29",
        "reason": "Sole supplier delivered late; the factory reopens production on March 20.",
        "deadline": "2026-03-20",
        "default_action": "cancel",
        "lines": [
            {
                "order_number": "SO-10042",
                "po_number": "PO-7781",
                "sku": "WLK-BLK-090M",
                "description": "Walker, Black, 9 M",
                "quantity": 4,
                "old_date": "2026-04-09",
                "new_date": "2026-05-07",
                "deadline": "2026-03-20",
                "alternatives": [
                    {
                        "sku": "STR-BLK-090M",
                        "description": "Stroll, Black, 9 M",
                        "ships_by": "2026-03-24",
                    },
                    {
                        "sku": "CTY-BLK-090M",
                        "description": "City Walker, Black, 9 M",
                        "ships_by": "2026-03-24",
                    },
                ],
            },
            {
                "order_number": "SO-10057",
                "po_number": "PO-7802",
                "sku": "WLK-BLK-095M",
                "description": "Walker, Black, 9.5 M",
                "quantity": 6,
                "old_date": "2026-04-09",
                "new_date": "2026-05-07",
                "deadline": "2026-03-20",
                "alternatives": [],
            },
        ],
        "moved_lines": [
            {
                "order_number": "SO-10061",
                "po_number": "PO-7815",
                "sku": "WLK-BRN-080M",
                "description": "Walker, Brown, 8 M",
                "quantity": 3,
                "old_date": "2026-04-09",
                "new_date": "2026-05-07",
            },
        ],
        "decide_url": f"{SITE}/backorders/answer/abc123/",
        "keep_all_url": f"{SITE}/backorders/answer/abc123/?all=keep",
        "cancel_all_url": f"{SITE}/backorders/answer/abc123/?all=cancel",
        "orders_url": f"{SITE}/backorders/",
    },
    MessageKind.AUTO_CANCEL: {
        "account_name": "Comfort Shoes of Burlington",
        "reason": "Still not in stock after your 45-day backorder window.",
        "lines": [
            {
                "order_number": "SO-09911",
                "po_number": "PO-7690",
                "sku": "RDG-GRY-100M",
                "description": "Ridge Trail, Grey, 10 M",
                "quantity": 6,
                "promised_date": "2026-02-27",
                "alternatives": [
                    {
                        "sku": "RDG-NVY-100M",
                        "description": "Ridge Trail, Navy, 10 M",
                        "ships_by": "2026-03-04",
                    }
                ],
            },
        ],
        "orders_url": f"{SITE}/orders/",
    },
    MessageKind.STOCK_SHORTAGE: {
        "account_name": "Comfort Shoes of Burlington",
        "lines": [
            {
                "order_number": "SO-10042",
                "po_number": "PO-7781",
                "sku": "TRL-OLV-075W",
                "description": "Ridge Trail, Olive, 7.5 W",
                "quantity": 2,
                "outcome": "backordered",
                "expected_date": "2026-04-16",
            },
            {
                "order_number": "SO-10057",
                "po_number": "PO-7802",
                "sku": "SND-TAN-070M",
                "description": "Harbor Sandal, Tan, 7 M",
                "quantity": 3,
                "outcome": "cancelled",
            },
        ],
        "orders_url": f"{SITE}/backorders/",
    },
    MessageKind.BACKORDER_FILLED: {
        "account_name": "Comfort Shoes of Burlington",
        "run_reference": "RUN-00012",
        "ship_date": "2026-04-18",
        "lines": [
            {
                "order_number": "SO-10042",
                "po_number": "PO-7781",
                "sku": "WLK-BLK-090M",
                "description": "Walker, Black, 9 M",
                "quantity": 4,
            },
            {
                "order_number": "SO-10057",
                "po_number": "PO-7802",
                "sku": "WLK-BRN-080M",
                "description": "Walker, Brown, 8 M",
                "quantity": 3,
            },
        ],
        "orders_url": f"{SITE}/orders/",
    },
    MessageKind.SHIPMENT: {
        "account_name": "Comfort Shoes of Burlington",
        "order_number": "SO-10042",
        "po_number": "PO-7781",
        "shipped_on": "2026-03-17",
        "carrier": "UPS",
        "packages": [
            {
                "tracking": "1Z999AA10123456784",
                "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
            },
            {
                "tracking": "1Z999AA10123456795",
                "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456795",
            },
        ],
        "lines": [
            {"sku": "WLK-BLK-085M", "description": "Walker, Black, 8.5 M", "quantity": 12},
            {"sku": "WLK-BLK-090M", "description": "Walker, Black, 9 M", "quantity": 8},
            {"sku": "TRL-OLV-075W", "description": "Ridge Trail, Olive, 7.5 W", "quantity": 6},
        ],
        "remaining_backordered": 4,
        "order_url": f"{SITE}/orders/SO-10042/",
    },
    MessageKind.INVOICE: {
        "account_name": "Comfort Shoes of Burlington",
        "invoice_number": "INV-20931",
        "order_number": "SO-10042",
        "po_number": "PO-7781",
        "issued_on": "2026-03-17",
        "due_date": "2026-04-16",
        "terms": "Net 30",
        "subtotal": "1620.00",
        "freight": "0.00",
        "total": "1620.00",
        "invoice_url": f"{SITE}/invoices/INV-20931/",
        "pdf_url": f"{SITE}/invoices/INV-20931/pdf/",
    },
    MessageKind.CREDIT_MEMO: {
        "account_name": "Comfort Shoes of Burlington",
        "credit_memo_number": "CM-00311",
        "invoice_number": "INV-20931",
        "order_number": "SO-10042",
        "po_number": "PO-7781",
        "issued_on": "2026-03-20",
        "amount": "120.00",
        "reason": "Manufacturing defect",
        "note": "Two pairs with split soles",
        "invoice_url": f"{SITE}/invoices/INV-20931/",
        "pdf_url": f"{SITE}/credit-memos/CM-00311/pdf/",
    },
    MessageKind.CREDIT_RELEASED: {
        "account_name": "Comfort Shoes of Burlington",
        "order_number": "SO-10042",
        "po_number": "PO-7781",
        "total": "1860.00",
        "order_url": f"{SITE}/orders/SO-10042/",
    },
    MessageKind.GENERIC: {
        "headline": "Your credit of $120.00 has been issued",
        "body": "We have issued credit memo CM-00311 for the two defective pairs on order "
        "SO-09911.\n\nIt is applied to your next invoice automatically.",
        "url": f"{SITE}/invoices/",
        "url_label": "See your invoices",
    },
    MessageKind.CASE_UPDATE: {
        "account_name": "Comfort Shoes of Burlington",
        "case_number": "CS-000042",
        "headline": "Trailwise replied on case CS-000042",
        "body": "Thanks for the photos. We are sending two replacement pairs today.",
        "case_url": f"{SITE}/cases/CS-000042/",
        "document_label": "Replacement order SO-10077",
        "document_url": f"{SITE}/orders/SO-10077/",
        "reply_to": "case-42-5f1e0c9a2b7d4e11@reply.trailwise.example",
    },
    MessageKind.PASSWORD_RESET: {
        # Added at sending time by rendering.password_reset_url, never stored.
        "reset_url": f"{SITE}/accounts/reset/MQ/cz8k1b-5d41402abc4b2a76b9719d911017c592/",
    },
    MessageKind.PASSWORD_CHANGED: {
        "changed_at": "2026-03-14T09:30:00-04:00",
        "reset_url": f"{SITE}/accounts/password_reset/",
    },
    MessageKind.BACK_IN_STOCK: {
        "account_name": "Comfort Shoes of Burlington",
        "sku": "WLK-BLK-085M",
        "description": "Walker, Black, 8.5 M",
        "ats": 24,
        "style_url": f"{SITE}/catalogue/WLK/",
    },
}
