"""The admin, tuned for customer service, one module per subject:

- accounts: accounts and the versioned commercial terms
- order_page: the order page that tells the whole story and runs the order actions
- order_actions: how any app adds an action to the order page (order_action_register)
- order_resolutions: customer service's resolutions (case, credit, return, ...)
- credit_holds: releasing an order from credit hold, and the order list's filter
- documents: shipments, invoices, credit memos, return authorizations
- cases: the case log and credit approvals
- audit: the audit trail, also on inventory's stock and run pages
- exports: CSV exports that are safe to open in a spreadsheet
- pricing: price lists, their explicit prices and the accounts that buy on them
- webhooks: webhook endpoints, deliveries with their attempts, "retry now"

Importing the package registers every page; nothing here depends on which app's admin
Django imports first."""

from orders.admin import (  # noqa: F401 (importing registers the pages)
    accounts,
    audit,
    cases,
    credit_holds,
    documents,
    order_page,
    order_resolutions,
    pricing,
    webhooks,
)
from orders.admin.order_actions import (
    ActionDone,
    ActionForm,
    case_field,
    order_action_register,
)

__all__ = ["ActionDone", "ActionForm", "case_field", "order_action_register"]
