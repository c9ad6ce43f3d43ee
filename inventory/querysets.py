from django.db import models
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest


def ats_expression(prefix=""):
    """ATS now for a StockLevel row, in SQL: on_hand - allocated - holdback, never below 0."""
    return Greatest(
        F(f"{prefix}on_hand") - F(f"{prefix}allocated") - F(f"{prefix}holdback"), Value(0)
    )


class StockLevelQuerySet(models.QuerySet):
    def with_ats(self):
        return self.annotate(ats_now=ats_expression())


class SKUQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def matching(self, q: str):
        """Free-text search: SKU code, exact UPC, style number or name, colour."""
        q = (q or "").strip()
        if not q:
            return self
        return self.filter(
            Q(code__icontains=q)
            | Q(upc=q)
            | Q(style__name__icontains=q)
            | Q(style__number__iexact=q)
            | Q(color__icontains=q)
        )

    def with_ats(self):
        """Annotate `ats_now`: the sum over warehouses of each level's non-negative ATS.

        A correlated subquery, not a join with GROUP BY: counting or paging the SKUs never
        touches the stock table, and PostgreSQL computes the sum only for the rows a
        LIMIT keeps (the stock levels' (sku, warehouse) index serves each one)."""
        from inventory.models import StockLevel

        per_sku = (
            StockLevel.objects.filter(sku=OuterRef("pk"))
            .order_by()
            .values("sku")
            .annotate(total=Sum(ats_expression()))
            .values("total")
        )
        return self.annotate(
            ats_now=Coalesce(Subquery(per_sku, output_field=IntegerField()), Value(0))
        )


class InboundRunQuerySet(models.QuerySet):
    def open(self):
        from inventory.models import OPEN_INBOUND_STATUSES

        return self.filter(status__in=OPEN_INBOUND_STATUSES)


class InboundLineQuerySet(models.QuerySet):
    def open(self):
        from inventory.models import OPEN_INBOUND_STATUSES

        return self.filter(run__status__in=OPEN_INBOUND_STATUSES)
