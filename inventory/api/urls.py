from django.urls import path

from inventory.api import views

urlpatterns = [
    path(
        "skus/<str:sku>/availability/",
        views.AvailabilityView.as_view(),
        name="sku-availability",
    ),
    path("inbound/", views.InboundView.as_view(), name="inbound-list"),
]
