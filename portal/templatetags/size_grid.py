"""The size grid's cells, rendered in Python: a style has up to a hundred cells of about
ten values each, and resolving them one at a time through the template engine was most
of the page's time. The markup is the one the grid template had, cell for cell; numbers
print as the template printed them (no thousand separators are configured)."""

from django import template
from django.template.defaultfilters import date
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

EMPTY_CELL = '<td><span class="muted">–</span></td>'


def _alert(sku, *, label, alerted, alert_url):
    """For a size with nothing available: ask to be told when it is back (it submits the
    grid's form to the alert URL; htmx swaps in the answer), or say an alert waits."""
    if sku.pk in alerted:
        return '<span class="badge ok">Alert set</span>'
    return (
        f'<button type="submit" class="link" formaction="{alert_url}" name="alert_sku"'
        f' value="{escape(sku.code)}" hx-post="{alert_url}" hx-target="this"'
        f' hx-swap="outerHTML" aria-label="{label}: tell me when it is back">Tell me</button>'
    )


def _cell(cell, *, label_prefix, can_order, eta_labels, alerted, alert_url):
    sku = cell.sku
    if sku is None:
        return EMPTY_CELL
    quantity_input = ""
    if can_order:
        label = escape(f"{label_prefix}, size {sku.size_label}: pairs")
        value = cell.in_cart or ""
        quantity_input = (
            f'<input id="qty-{sku.pk}" aria-label="{label}" name="qty-{sku.pk}"'
            f' inputmode="numeric" pattern="[0-9]*" size="3" value="{value}"'
            f' aria-describedby="ats-{sku.pk}">\n'
        )
    eta = ""
    if cell.next_eta:
        if cell.next_eta not in eta_labels:
            eta_labels[cell.next_eta] = escape(date(cell.next_eta, "M j"))
        eta = (
            '<span class="eta"><span class="visually-hidden">more arriving </span>'
            f"{eta_labels[cell.next_eta]}</span>"
        )
    zero = "" if cell.ats else " zero"
    alert = ""
    if can_order and not cell.ats:
        label = escape(f"{label_prefix}, size {sku.size_label}")
        alert = "\n" + _alert(sku, label=label, alerted=alerted, alert_url=alert_url)
    return (
        f'<td>\n{quantity_input}<span id="ats-{sku.pk}"><span class="ats{zero}">{cell.ats}'
        f'<span class="visually-hidden"> available now</span></span>{eta}</span>{alert}\n</td>'
    )


@register.simple_tag
def size_grid_cells(grid, row, can_order, alerted=()):
    """The <td> cells of one row (one width) of a colour's grid; `alerted` holds the SKU
    ids the user already waits for."""
    label_prefix = f"{grid.color}, width {row.width_label}"
    eta_labels = {}  # a row's cells mostly share a few dates
    alert_url = reverse("portal:stock_alert_new")
    return mark_safe(
        "\n".join(
            _cell(
                cell,
                label_prefix=label_prefix,
                can_order=can_order,
                eta_labels=eta_labels,
                alerted=alerted,
                alert_url=alert_url,
            )
            for cell in row.cells
        )
    )
