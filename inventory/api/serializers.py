from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.models import InboundStatus
from inventory.services import MAX_INBOUND_QUANTITY
from restapi.errors import ErrorSerializer  # noqa: F401  (re-exported for the views)
from restapi.serializers import StrictFieldsMixin


def flat_errors(errors, prefix="") -> dict[str, list[str]]:
    """DRF's nested serializer errors as one level keyed like "lines[1].sku"."""
    if isinstance(errors, dict):
        flat = {}
        for key, value in errors.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            elif key == "non_field_errors" and prefix:
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flat_errors(value, name))
        return flat
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        return {prefix or "non_field_errors": [str(e) for e in errors]}
    if isinstance(errors, list):
        flat = {}
        for index, value in enumerate(errors):
            if value:
                flat.update(flat_errors(value, f"{prefix}[{index}]"))
        return flat
    return {prefix or "non_field_errors": [str(errors)]}


# Serializes inventory.selectors.CatalogueItem rows. (No docstring: it would become the
# schema's description of SKU.)
class SKUSerializer(serializers.Serializer):
    sku = serializers.CharField(source="code")
    upc = serializers.CharField()
    style = serializers.CharField(source="style_number")
    color = serializers.CharField()
    size = serializers.CharField(source="size_label", help_text='A string, e.g. "8.5".')
    width = serializers.CharField(source="width_label", help_text="N, M, W or WW.")
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text="Your wholesale price: your account's price list in effect today, "
        "else the base list.",
    )
    msrp = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="Manufacturer's suggested retail price."
    )
    ats = serializers.IntegerField(help_text="Available to sell now.")
    next_eta = serializers.SerializerMethodField()
    core = serializers.BooleanField()
    replenishment = serializers.CharField()

    @extend_schema_field({"type": "string", "format": "date", "nullable": True})
    def get_next_eta(self, item) -> str | None:
        return item.next_eta.isoformat() if item.next_eta else None

    def to_representation(self, item):
        """The fields declared above, read directly: DRF's generic per-field lookups
        (an inspect.signature call for every callable source, on every row), its copy of
        every declared field per serializer and its Decimal quantizing were most of a 50-row
        page's time. Same keys, order and formatting."""
        return {
            "sku": item.code,
            "upc": item.upc,
            "style": item.style_number,
            "color": item.color,
            "size": item.size_label,
            "width": item.width_label,
            "price": f"{item.price:.2f}",  # as the DecimalField renders it, at a tenth the cost
            "msrp": f"{item.msrp:.2f}",
            "ats": item.ats,
            "next_eta": self.get_next_eta(item),
            "core": item.core,
            "replenishment": item.replenishment,
        }


class AvailabilityPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    ats = serializers.IntegerField()


class AvailabilitySerializer(serializers.Serializer):
    sku = serializers.CharField()
    ats = serializers.IntegerField(help_text="Available to sell now.")
    by_date = AvailabilityPointSerializer(
        many=True, help_text="Available to promise on each date: weekly, 12 weeks ahead."
    )


class InboundLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="sku.code")
    quantity = serializers.IntegerField()
    received = serializers.IntegerField()


class EtaChangeSerializer(serializers.Serializer):
    old_eta = serializers.DateField()
    new_eta = serializers.DateField()
    changed_at = serializers.DateTimeField()


class InboundRunSerializer(serializers.Serializer):
    reference = serializers.CharField()
    factory = serializers.CharField()
    warehouse = serializers.CharField(source="warehouse.code")
    status = serializers.CharField()
    eta = serializers.SerializerMethodField()
    lines = InboundLineSerializer(many=True)
    eta_history = EtaChangeSerializer(many=True, source="eta_changes")

    @extend_schema_field(OpenApiTypes.DATE)
    def get_eta(self, run) -> str:
        return self.context["run_etas"][run.pk].isoformat()


class InboundLineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_INBOUND_QUANTITY)


class InboundUpsertSerializer(StrictFieldsMixin, serializers.Serializer):
    reference = serializers.CharField(max_length=40)
    eta = serializers.DateField(
        help_text="Creates the run with this ETA. For an existing run it must equal the "
        "current ETA: an ETA moves only through POST /api/v1/inbound/{reference}/eta/."
    )
    status = serializers.ChoiceField(choices=InboundStatus.choices, required=False)
    factory = serializers.CharField(max_length=80, required=False, allow_blank=True)
    warehouse = serializers.CharField(
        max_length=10, required=False, help_text="Warehouse code; the default when omitted."
    )
    lines = InboundLineInputSerializer(many=True, allow_empty=False)
