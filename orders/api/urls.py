from django.urls import path

from orders.api import ordering

urlpatterns = [
    path("orders/", ordering.OrderListCreateView.as_view(), name="orders"),
    path("orders/<str:number>/", ordering.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/cancel/", ordering.OrderCancelView.as_view(), name="order-cancel"),
]
