from django.db import models

from orders.models.accounts import Account


class PriceListAssignment(models.Model):
    """A price list an account buys on. An account may hold several (this season's and
    next season's, loaded early): the one in effect on a day is the assigned list whose
    dates cover it that started last (orders.pricing.account_price_list)."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="price_list_assignments"
    )
    price_list = models.ForeignKey(
        "inventory.PriceList", on_delete=models.CASCADE, related_name="assignments"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "price_list"], name="price_list_assignment_unique"
            )
        ]

    def __str__(self):
        return f"{self.account_id} -> {self.price_list_id}"
