"""Customer service releases an order from credit hold on the order page, within their
authority (orders.services.credit_holds); the page shows why it is held."""

from django import forms
from django.contrib import admin

from orders.admin.order_actions import ActionDone, ActionForm, order_action_register
from orders.services.credit_holds import order_credit_release


class CreditHoldFilter(admin.SimpleListFilter):
    title = "credit hold"
    parameter_name = "credit_hold"

    def lookups(self, request, model_admin):
        return [("held", "On credit hold"), ("released", "Released")]

    def queryset(self, request, queryset):
        if self.value() == "held":
            return queryset.on_credit_hold()
        if self.value() == "released":
            return queryset.filter(credit_released_at__isnull=False)
        return queryset


class CreditReleaseForm(ActionForm):
    note = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the order may ship (kept in the audit trail).",
    )


def _do_release(form, request, order):
    order_credit_release(order=order, user=request.user, note=form.cleaned_data["note"])
    return ActionDone(f"Released order {order.number} from credit hold; the warehouse may ship it.")


order_action_register(
    slug="credit-release",
    title="Release credit hold",
    form=CreditReleaseForm,
    handler=_do_release,
    permission="orders.add_creditmemo",  # the people who hold a credit authority
    position=15,
)
