from orders.models.accounts import (
    Account,
    CommercialTerms,
    CreditStatus,
    DecisionDefault,
    Membership,
    MembershipRole,
    ShipTo,
)
from orders.models.fulfilment import (
    CreditMemo,
    CreditReason,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    ReturnAuthorization,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from orders.models.ordering import (
    Allocation,
    BackorderPeg,
    BackorderPolicy,
    Cart,
    CartLine,
    Order,
    OrderLine,
    OrderSource,
    OrderStatus,
)

__all__ = [
    "Account", "Allocation", "BackorderPeg", "BackorderPolicy", "Cart", "CartLine",
    "CommercialTerms", "CreditMemo", "CreditReason", "CreditStatus", "DecisionDefault",
    "DocumentSequence", "Invoice", "InvoiceLine", "InvoiceStatus", "Membership",
    "MembershipRole", "Order", "OrderLine", "OrderSource", "OrderStatus", "Payment",
    "ReturnAuthorization", "ReturnLine", "Shipment", "ShipmentLine", "ShipTo",
]
