"""An order's lines as table rows, rendered in Python: about twenty values per line
through the template engine cost more than every query of the page together. The
markup and formatting are the ones the order template had, row for row; quantities print
as the template printed them (no thousand separators are configured)."""

from django import template
from django.template.defaultfilters import date, floatformat
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

NOT_SET = "—"


def _dated(value):
    return escape(date(value, "M j, Y")) if value else NOT_SET


def _cancel_input(line):
    if not line.open_quantity:
        return '<td class="num"></td>'
    label = escape(f"Pairs of {line.sku.code} to cancel (up to {line.open_quantity})")
    return (
        f'<td class="num"><input name="cancel-{line.pk}" inputmode="numeric" size="4"'
        f' aria-label="{label}" placeholder="0–{line.open_quantity}"></td>'
    )


def _row(detail, *, cancellable):
    line, sku = detail.line, detail.line.sku
    item = escape(f"{sku.style.name} · {sku.color} · {sku.size_label} {sku.get_width_display()}")
    if line.cancel_reason:
        item += f'<br><span class="muted">{escape(line.cancel_reason)}</span>'
    expected = NOT_SET
    if detail.expected_date:
        expected = _dated(detail.expected_date)
        if detail.basis:
            expected += f'<br><span class="muted small">{escape(detail.basis)}</span>'
        if detail.runs:
            runs = ", ".join(escape(run) for run in detail.runs)
            expected += f'<br><span class="muted">run {runs}</span>'
    return (
        "<tr>"
        f"<td>{escape(sku.code)}</td>"
        f"<td>{item}</td>"
        f'<td class="num">{line.quantity}</td>'
        f'<td class="num">{line.allocated}</td>'
        f'<td class="num">{line.backordered}</td>'
        f'<td class="num">{line.shipped}</td>'
        f'<td class="num">{line.cancelled}</td>'
        f"<td>{_dated(line.promised_date)}</td>"
        f"<td>{expected}</td>"
        f'<td class="num">${floatformat(line.unit_price, "2g")}</td>'
        f"{_cancel_input(line) if cancellable else ''}"
        "</tr>"
    )


@register.simple_tag
def order_line_rows(details, cancellable):
    """One <tr> per line: SKU, item, the quantity split, promised and expected dates (with
    the runs the line waits for), price and, if `cancellable`, the pairs-to-cancel input."""
    return mark_safe("\n".join(_row(detail, cancellable=cancellable) for detail in details))
