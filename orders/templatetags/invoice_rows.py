"""An invoice's lines as table rows for its PDF, rendered in Python: five values a line
through the template engine cost more than the rest of the template on a long invoice.
The markup and formatting are the ones the invoice template had, row for row."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


def _row(line):
    sku = line.order_line.sku
    return (
        f'<tr><td class="mono">{escape(sku.code)}</td>'
        f"<td>{escape(sku.style.name)}, {escape(sku.color)}, {escape(sku.size_label)}"
        f" {escape(sku.get_width_display())}</td>"
        f'<td class="num">{line.quantity}</td>'
        f'<td class="num">${floatformat(line.unit_price, "2g")}</td>'
        f'<td class="num">${floatformat(line.amount, "2g")}</td></tr>'
    )


@register.simple_tag
def invoice_line_rows(lines):
    """One <tr> per invoice line: SKU, description, pairs, unit price and amount."""
    return mark_safe("".join(_row(line) for line in lines))
