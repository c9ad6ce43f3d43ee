"""Real services for the fault tests: a redis-server of our own on a free port that a
test can kill and restart, a slow SMTP sink (aiosmtpd), and a shop to order from."""

import shutil
import socket
import subprocess
import time
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import SKUFactory, StockLevelFactory
from tests.notifications.conftest import free_port
from tests.orders.conftest import make_fill_in

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="faults are defined on PostgreSQL"
)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RedisServer:
    """One redis-server process on a fixed port; stop() kills it, start() brings it back."""

    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        assert not _port_open(self.port), f"port {self.port} is taken"
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _port_open(self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        deadline = time.monotonic() + 10
        while _port_open(self.port):
            assert time.monotonic() < deadline, "redis-server did not stop"
            time.sleep(0.05)


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shop(terms, account, buyer, warehouse):
    """Fill-in sized orders, a SKU with 40 pairs in stock."""
    terms.opening_order_minimum = Decimal("0.00")
    terms.fill_in_minimum_pairs = 1
    terms.save()
    make_fill_in(account)
    sku = SKUFactory(price=Decimal("50.00"))
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=40)
    return sku
