"""Stock records allocated beyond their stock (oversold), and the orders and lines
placed between --since and --until (ISO times; all of them without), as JSON."""

import datetime as dt
import json

from django.core.management.base import BaseCommand
from django.db.models import F
from oscar.core.loading import get_model

Line = get_model("order", "Line")
Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--since", type=dt.datetime.fromisoformat)
        parser.add_argument("--until", type=dt.datetime.fromisoformat)

    def handle(self, *args, since, until, **options):
        orders = Order.objects.all()
        if since and until:
            orders = orders.filter(date_placed__gte=since, date_placed__lt=until)
        oversold = StockRecord.objects.filter(num_allocated__gt=F("num_in_stock")).count()
        placed = {"orders": orders.count(), "lines": Line.objects.filter(order__in=orders).count()}
        self.stdout.write(json.dumps({"oversold": oversold, **placed}))
