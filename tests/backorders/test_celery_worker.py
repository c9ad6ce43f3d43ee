"""A real Celery worker against Redis runs the daily sweep through to its messages, and
delivers them (the sweep's commit kicks the outbox's drain, which the worker runs)."""

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from backorders.tasks import backorder_sweep_task
from notifications.models import Message
from orders.models import OrderLine
from tests.backorders.helpers import backordered_line, run_with, today
from tests.factories import SKUFactory
from tests.workers import celery_worker_start, scratch_broker

BROKER = scratch_broker(7)
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_to_its_messages(account, buyer, warehouse):
    if connection.vendor != "postgresql":
        pytest.skip("The worker needs the shared PostgreSQL test database.")
    try:
        redis.Redis.from_url(BROKER, socket_timeout=2).flushdb()
    except redis.RedisError:
        pytest.skip("Redis is not reachable.")
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    OrderLine.objects.filter(pk=line.pk).update(window_end=today() - dt.timedelta(days=1))
    worker = celery_worker_start(broker=BROKER, stderr=subprocess.PIPE)
    try:
        with backorder_sweep_task.app.connection_for_write(BROKER) as conn:
            backorder_sweep_task.apply_async(kwargs={"batch_size": 1}, connection=conn)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Message.objects.filter(kind="auto_cancel").exists():
                break
            time.sleep(0.5)
        message = Message.objects.get(kind="auto_cancel")
        assert message.key == f"sweep:{today().isoformat()}:{account.pk}:{buyer.pk}"
        line.refresh_from_db()
        assert (line.backordered, line.cancelled) == (0, 4)
        while time.monotonic() < deadline and message.status != "sent":
            time.sleep(0.5)
            message.refresh_from_db()
        assert message.status == "sent"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        connection.close()
