"""The dashboard's table rows, rendered in Python: a few dozen rows of five to ten values
each through the template engine were a third of the page's time. The markup and
formatting are the ones the dashboard template had, row for row (dates in the current
time zone, as the template's date filter shows them); counts print as the template printed
them (no thousand separators are configured)."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date, floatformat
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

register = template.Library()

NOT_SET = "—"
OVERDUE = ' <span class="badge bad">overdue</span>'


def _day(value, fmt="M j"):
    return escape(date(template_localtime(value), fmt))


def _order_link(number):
    return f'<a href="{escape(reverse("portal:order_detail", args=[number]))}">{escape(number)}</a>'


def _sku_label(sku):
    return escape(f"{sku.color} {sku.size_label}{sku.get_width_display()}")


def _rows(rows):
    return mark_safe("\n".join(rows))


@register.simple_tag
def open_order_rows(orders):
    return _rows(
        "<tr>"
        f"<td>{_order_link(order.number)}</td>"
        f"<td>{escape(order.po_number) if order.po_number else NOT_SET}</td>"
        f"<td>{_day(order.placed_at)}</td>"
        f'<td class="num">{order.open_pairs or 0}</td>'
        f'<td><span class="badge">{escape(order.get_status_display())}</span></td>'
        "</tr>"
        for order in orders
    )


def _expected(line):
    if not line.expected_date:
        return '<span class="muted">not scheduled</span>'
    moved = line.communicated_date and line.expected_date > line.communicated_date
    basis = line.expected_basis
    return (
        _day(line.expected_date)
        + (' <span class="badge warn">moved</span>' if moved else "")
        + (f'<br><span class="muted small">{escape(basis)}</span>' if basis else "")
    )


@register.simple_tag
def backorder_rows(lines):
    return _rows(
        "<tr>"
        f"<td>{_order_link(line.order.number)}</td>"
        f'<td>{escape(line.sku.style.name)} <span class="muted">{_sku_label(line.sku)}</span></td>'
        f'<td class="num">{line.backordered}</td>'
        f"<td>{_expected(line)}</td>"
        "</tr>"
        for line in lines
    )


@register.simple_tag
def shipment_rows(shipments):
    return _rows(
        "<tr>"
        f"<td>{escape(shipment.number)}<br>"
        f'<span class="muted small">{shipment.pairs or 0} pairs</span></td>'
        f"<td>{_order_link(shipment.order.number)}</td>"
        f"<td>{_day(shipment.shipped_at)}</td>"
        f"<td>{escape(shipment.carrier)} "
        f'<span class="muted small tracking">{escape(shipment.tracking)}</span></td>'
        "</tr>"
        for shipment in shipments
    )


@register.simple_tag
def invoice_rows(invoices):
    return _rows(
        "<tr>"
        f"<td>{escape(invoice.number)}</td>"
        f"<td>{_day(invoice.due_on, 'M j, Y')}{OVERDUE if invoice.is_overdue else ''}</td>"
        f'<td class="num">${intcomma(floatformat(invoice.balance, 2))}</td>'
        "</tr>"
        for invoice in invoices
    )


def _core_reorder_form(sku, *, csrf_input, reorder_url):
    code, quantity = escape(sku.code), sku.usual_quantity
    return (
        f'<form method="post" action="{reorder_url}" class="inline">{csrf_input}'
        f'<input type="hidden" name="sku" value="{code}">'
        f'<input type="hidden" name="quantity" value="{quantity}">'
        f'<button type="submit" aria-label="Add {quantity} pairs of {code} to the cart">'
        f"Add {quantity}</button></form>"
    )


@register.simple_tag(takes_context=True)
def core_list_rows(context, skus, can_order):
    """Each core SKU with ATS now and the usual quantity: one click adds it to the cart for
    a user who may order, a link to order it from its style page when there is no usual
    quantity; a viewer gets no action (the style's name links to it)."""
    csrf_input = CsrfTokenNode().render(context) if can_order else ""
    reorder_url = escape(reverse("portal:core_reorder"))
    rows = []
    for sku in skus:
        style_url = escape(reverse("portal:style_detail", args=[sku.style.number]))
        if not can_order:
            action = ""
        elif sku.usual_quantity:
            action = _core_reorder_form(sku, csrf_input=csrf_input, reorder_url=reorder_url)
        else:
            action = f'<a href="{style_url}">Order</a>'

        rows.append(
            "<tr>"
            f'<td><a href="{style_url}">{escape(sku.style.name)}</a> '
            f'<span class="muted">{_sku_label(sku)}</span><br>'
            f'<span class="muted small">{escape(sku.code)}</span></td>'
            f'<td class="num">${intcomma(floatformat(sku.account_price, 2))}</td>'
            f'<td class="num">{sku.ats_now}</td>'
            f'<td class="num">{sku.usual_quantity or NOT_SET}</td>'
            f"<td>{action}</td>"
            "</tr>"
        )
    return _rows(rows)
