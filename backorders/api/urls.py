from django.urls import path

from backorders.api import views

urlpatterns = [
    path(
        "backorders/<int:line_id>/decision/",
        views.BackorderDecisionView.as_view(),
        name="backorder-decision",
    ),
    path("inbound/<str:reference>/eta/", views.InboundEtaView.as_view(), name="inbound-eta"),
    path(
        "inbound/<str:reference>/receive/",
        views.InboundReceiveView.as_view(),
        name="inbound-receive",
    ),
    path(
        "inbound/<str:reference>/cancel/", views.InboundCancelView.as_view(), name="inbound-cancel"
    ),
    path("stock/sync/", views.StockSyncView.as_view(), name="stock-sync"),
]
