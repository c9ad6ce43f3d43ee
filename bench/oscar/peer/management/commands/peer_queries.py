"""Database queries one 10-line order costs through the placement view, counted
in-process (as the portal's bench counts its pages'); prints the count."""

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from oscar.core.loading import get_model

StockRecord = get_model("partner", "StockRecord")


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--session", required=True)

    def handle(self, *args, session, **options):
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies["sessionid"] = session
        plentiful = StockRecord.objects.filter(num_in_stock__gte=1000).order_by("?")[:20]
        codes = [record.partner_sku for record in plentiful]
        executed = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        for batch in (codes[:10], codes[10:]):  # the first warms what a long-running worker holds
            executed.clear()
            body = {"lines": [{"sku": code, "quantity": 1} for code in batch]}
            # A wrapper, as the portal's bench counts: the test client's request_started
            # signal resets the debug query log mid-capture.
            with connection.execute_wrapper(count):
                response = client.post("/place/", body, content_type="application/json")
            if response.status_code != 201:
                raise RuntimeError(f"placement answered {response.status_code}: {response.content}")
        self.stdout.write(str(len(executed)))
