"""Writes to price lists and their assignments. Placed order lines keep the price they
were placed at (OrderLine.unit_price): nothing here touches them."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from inventory.models import PriceList, PriceListItem
from orders.models import PriceListAssignment
from orders.price_imports import PriceListRow, PriceRow


@dataclass
class PriceListImportResult:
    lists_created: int = 0
    lists_updated: int = 0
    prices_set: int = 0
    prices_removed: int = 0
    assignments_added: int = 0


@transaction.atomic(durable=True)
def price_lists_import(
    *, lists: Sequence[PriceListRow], prices: Sequence[PriceRow], progress=None
) -> PriceListImportResult:
    """Create or update price lists (by code), assign them to accounts, and set or remove
    their explicit prices, all or nothing."""
    result = PriceListImportResult()
    by_code = {
        price_list.code: price_list
        for price_list in PriceList.objects.filter(
            code__in={row.code for row in lists} | {row.list_code for row in prices}
        )
    }
    for row in lists:
        values = {
            name: value
            for name, value in (
                ("name", row.name),
                ("percent_off", row.percent_off),
                ("starts_on", row.starts_on),
                ("ends_on", row.ends_on),
            )
            if value is not None
        }
        price_list = by_code.get(row.code)
        if price_list is None:
            by_code[row.code] = price_list = PriceList.objects.create(code=row.code, **values)
            result.lists_created += 1
        else:
            changed = [name for name, value in values.items() if getattr(price_list, name) != value]
            for name in changed:
                setattr(price_list, name, values[name])
            if changed:
                price_list.save(update_fields=changed)
                result.lists_updated += 1
        assigned = set(
            price_list.assignments.filter(account_id__in=row.accounts).values_list(
                "account_id", flat=True
            )
        )
        new = [pk for pk in row.accounts if pk not in assigned]
        PriceListAssignment.objects.bulk_create(
            [PriceListAssignment(account_id=pk, price_list=price_list) for pk in new]
        )
        result.assignments_added += len(new)
        _tick(progress)
    for row in prices:
        target = {
            "price_list": by_code[row.list_code],
            "style_id": row.style_id,
            "sku_id": row.sku_id,
        }
        if row.price is None:
            result.prices_removed += PriceListItem.objects.filter(**target).delete()[0]
        else:
            PriceListItem.objects.update_or_create(**target, defaults={"price": row.price})
            result.prices_set += 1
        _tick(progress)
    return result


def _tick(progress):
    if progress is not None:
        progress(1)
