from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "orders.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
