"""Redis stops while a retailer places an order: the order is placed at once, its
confirmation waits in the outbox, and once Redis is back the sweep sends it, once."""

import datetime as dt
import time

import pytest
import time_machine
from django.core import mail

from notifications.models import Message, MessageStatus
from notifications.services import delivery_breaker_reset, outbox_sweep
from notifications.tasks import outbox_sweep_task
from orders.models import Order
from tests.conftest import api_client_for
from tests.notifications.conftest import celery_broker

pytestmark = pytest.mark.django_db(transaction=True)


def test_redis_down_during_an_order_delays_the_confirmation_and_never_loses_it(
    redis_server, shop, buyer, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    delivery_breaker_reset()
    api = api_client_for(buyer)
    with celery_broker(redis_server.url):
        # given: Redis was up, and now it is gone
        redis_server.stop()

        # when: an order comes in through the API
        started = time.monotonic()
        response = api.post(
            "/api/v1/orders/",
            {"po_number": "PO-REDIS-DOWN", "lines": [{"sku": shop.code, "quantity": 6}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="redis-down-1",
        )
        elapsed = time.monotonic() - started

        # then: placed, quickly; the confirmation waits in the outbox
        assert response.status_code == 201, response.content
        assert elapsed < 5
        order = Order.objects.get(number=response.json()["number"])
        confirmation = Message.objects.get(key=f"order-confirmation:{order.pk}:{buyer.pk}")
        assert confirmation.status == MessageStatus.PENDING
        assert mail.outbox == []

        # when: Redis is back on the same port and the periodic sweep runs
        redis_server.start()
        delivery_breaker_reset()
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
        with time_machine.travel(later):
            swept = outbox_sweep_task()
            again = outbox_sweep()

    # then: sent exactly once
    assert swept == 1
    assert again == []
    assert [m.subject for m in mail.outbox] == [
        f"{order.account.name}: Order {order.number} confirmed (PO PO-REDIS-DOWN)"
    ]
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.SENT, 1)
    print(f"\nFAULT redis-down: order placed in {elapsed:.2f}s; swept={swept}, sent=1")
