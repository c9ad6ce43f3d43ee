"""The set-based building blocks (inventory.sql) on whichever database the suite runs:
PostgreSQL here, the embedded SQLite default in test_embedded_default."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import SKU
from inventory.sql import ids_in
from tests.factories import SKUFactory


def test_ids_in_selects_what_in_selects(db):
    skus = [SKUFactory() for _ in range(4)]
    wanted = [skus[2].pk, skus[0].pk, skus[2].pk, 10**12]  # repeats and an unknown id

    def picked(condition):
        return list(SKU.objects.filter(condition).order_by("pk").values_list("pk", flat=True))

    assert picked(ids_in("pk", wanted)) == sorted({skus[0].pk, skus[2].pk})
    assert picked(ids_in("pk", wanted)) == list(
        SKU.objects.filter(pk__in=wanted).order_by("pk").values_list("pk", flat=True)
    )
    assert picked(ids_in("pk", [])) == []
    assert picked(ids_in("style_id", {skus[1].style_id})) == [skus[1].pk]
    # and it updates as the filter of an UPDATE
    assert SKU.objects.filter(ids_in("pk", [skus[3].pk])).update(color="Ember") == 1
    assert SKU.objects.get(pk=skus[3].pk).color == "Ember"


def test_ids_in_sends_the_ids_as_one_array_parameter_on_postgresql(db):
    sku = SKUFactory()
    ids = [sku.pk, *range(10**12, 10**12 + 999)]
    with CaptureQueriesContext(connection) as captured:
        assert SKU.objects.filter(ids_in("pk", ids)).count() == 1
    (query,) = captured.captured_queries
    if connection.vendor == "postgresql":
        assert '"inventory_sku"."id" = ANY(' in query["sql"]
    else:
        assert " IN (" in query["sql"]
