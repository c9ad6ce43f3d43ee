"""What the store filed, on the case page: its claim, lines and photos (which open
through the portal's photo view, where staff with orders.view_claim may see them)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from orders.models import Claim


class ClaimInline(admin.StackedInline):
    model = Claim
    fk_name = "case"
    extra = 0
    can_delete = False
    fields = ["number", "shipment", "reason", "note", "created_by", "created_at", "lines", "photos"]
    readonly_fields = fields
    verbose_name = "claim filed by the store"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("shipment", "created_by")
            .prefetch_related("lines__shipment_line__order_line__sku", "photos")
        )

    @admin.display(description="Pairs claimed")
    def lines(self, claim):
        return format_html_join(
            "",
            "<div>{}: {} of {} shipped</div>",
            (
                (line.shipment_line.order_line.sku.code, line.quantity, line.shipment_line.quantity)
                for line in claim.lines.all()
            ),
        )

    @admin.display(description="Photos")
    def photos(self, claim):
        links = format_html_join(
            " ",
            '<a href="{0}" target="_blank" rel="noopener">'
            '<img src="{0}" alt="Photo {1}" width="120" height="90"></a>',
            (
                (reverse("portal:claim_photo", args=[claim.number, photo.pk]), index)
                for index, photo in enumerate(claim.photos.all(), start=1)
            ),
        )
        return links or format_html("<span>{}</span>", "none")
