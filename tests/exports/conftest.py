# The API tests' two tenants, each with orders, a backorder, a shipment and an invoice.
from tests.api.conftest import world  # noqa: F401
