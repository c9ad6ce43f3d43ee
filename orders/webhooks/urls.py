from django.urls import path

from orders.webhooks import api

urlpatterns = [
    path("webhooks/", api.WebhookListCreateView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", api.WebhookDetailView.as_view(), name="webhook-detail"),
]
