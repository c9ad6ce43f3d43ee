from django.urls import path

from orders.api import accounts, catalogue, line_sheets, ordering

urlpatterns = [
    path("accounts/", accounts.AccountListView.as_view(), name="accounts"),
    path("ship-tos/", accounts.ShipToListView.as_view(), name="ship-tos"),
    path("skus/", catalogue.AccountSKUListView.as_view(), name="sku-list"),
    path("line-sheet/", line_sheets.LineSheetView.as_view(), name="line-sheet"),
    path("orders/", ordering.OrderListCreateView.as_view(), name="orders"),
    path("orders/<str:number>/", ordering.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/cancel/", ordering.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<str:number>/lines/", ordering.OrderLinesView.as_view(), name="order-lines"),
]

# Shipments and invoices (orders.api.fulfilment).
from orders.api import fulfilment  # noqa: E402

urlpatterns += [
    path("shipments/", fulfilment.ShipmentListCreateView.as_view(), name="shipments"),
    path("invoices/", fulfilment.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<str:number>/pdf/", fulfilment.InvoicePdfView.as_view(), name="invoice-pdf"),
]

# Credit memos (orders.api.credits).
from orders.api import credits  # noqa: E402

urlpatterns += [
    path("credit-memos/", credits.CreditMemoListView.as_view(), name="credit-memos"),
    path(
        "credit-memos/<str:number>/pdf/",
        credits.CreditMemoPdfView.as_view(),
        name="credit-memo-pdf",
    ),
]

# Returns: the warehouse's receipt (orders.api.returns).
from orders.api import returns  # noqa: E402

urlpatterns += [
    path(
        "returns/<str:number>/receive/",
        returns.ReturnReceiveView.as_view(),
        name="return-receive",
    ),
]

# Claims from the store (orders.api.claims).
from orders.api import claims  # noqa: E402

urlpatterns += [
    path("claims/", claims.ClaimListCreateView.as_view(), name="claims"),
    path("claims/<str:number>/", claims.ClaimDetailView.as_view(), name="claim-detail"),
    path(
        "claims/<str:number>/photos/<int:photo_id>/",
        claims.ClaimPhotoView.as_view(),
        name="claim-photo",
    ),
]

# Open backorders, listed and exported (orders.api.backorders).
from orders.api import backorders  # noqa: E402

urlpatterns += [path("backorders/", backorders.BackorderListView.as_view(), name="backorders")]
