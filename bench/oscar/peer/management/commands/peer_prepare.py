"""Seed (once per SKU list) and reset Oscar's catalogue for a placement run: one product
and stock record per SKU code of the portal's placement sample, the stock set again on
every run (most records plentiful, as the portal's sample is topped up; one in ten
limited to 0-4 units, so some lines are short and those records are contested), and the
buyers signed in. Prints the SKUs and limited records as JSON."""

import json
import random
from decimal import Decimal

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand
from django.db import transaction
from oscar.core.loading import get_model

Country = get_model("address", "Country")
UserAddress = get_model("address", "UserAddress")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")

PLENTY = 1_000_000  # as the portal's bench tops up its sample
LIMITED_EVERY = 10


def stock_for(code):
    """The units a SKU's record holds at the start of every run (same for every run)."""
    rng = random.Random(code)
    return rng.randint(0, 4) if rng.randrange(LIMITED_EVERY) == 0 else PLENTY


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--skus-file", required=True)
        parser.add_argument("--buyers", type=int, default=16)
        parser.add_argument("--buyers-out", required=True)

    @transaction.atomic
    def handle(self, *args, skus_file, buyers, buyers_out, **options):
        with open(skus_file) as handle:
            codes = [line.strip() for line in handle if line.strip()]
        partner, _ = Partner.objects.get_or_create(name="Wholesale")
        product_class, _ = ProductClass.objects.get_or_create(
            name="Footwear", defaults={"track_stock": True, "requires_shipping": True}
        )
        if set(StockRecord.objects.values_list("partner_sku", flat=True)) != set(codes):
            Product.objects.all().delete()
            products = Product.objects.bulk_create(
                Product(
                    title=f"Shoe {code}", upc=code, slug=code.lower(), product_class=product_class
                )
                for code in codes
            )
            StockRecord.objects.bulk_create(
                StockRecord(
                    product=product,
                    partner=partner,
                    partner_sku=product.upc,
                    price_currency="USD",
                    price=Decimal("40.00"),
                    num_in_stock=0,
                )
                for product in products
            )
        records = list(StockRecord.objects.only("pk", "partner_sku"))
        for record in records:
            record.num_in_stock, record.num_allocated = stock_for(record.partner_sku), 0
        StockRecord.objects.bulk_update(records, ["num_in_stock", "num_allocated"], batch_size=1000)

        country, _ = Country.objects.get_or_create(
            iso_3166_1_a2="US",
            defaults={
                "name": "United States",
                "printable_name": "United States",
                "is_shipping_country": True,
            },
        )
        sessions = []
        for number in range(buyers):
            user, created = get_user_model().objects.get_or_create(
                username=f"buyer{number}", defaults={"email": f"buyer{number}@example.com"}
            )
            if created:
                UserAddress.objects.create(
                    user=user,
                    first_name="Store",
                    last_name=str(number),
                    line1=f"{number} Main Street",
                    line4="Springfield",
                    postcode="12345",
                    country=country,
                    is_default_for_shipping=True,
                )
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
            sessions.append(session.session_key)
        with open(buyers_out, "w") as handle:
            handle.write("".join(f"{key} -\n" for key in sessions))
        limited = sum(1 for record in records if record.num_in_stock < PLENTY)
        self.stdout.write(json.dumps({"skus": len(records), "limited": limited}))
