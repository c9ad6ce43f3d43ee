from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        from notifications.kinds import MessageKind, context_completer_register
        from orders.notices import order_confirmation_complete

        context_completer_register(MessageKind.ORDER_CONFIRMATION, order_confirmation_complete)
