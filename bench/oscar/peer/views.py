"""One request places one order the way Oscar's checkout does, from the same JSON the
portal's API takes (`{"lines": [{"sku": ..., "quantity": ...}, ...]}`; other keys are
ignored): the signed-in buyer's new basket gets each line as Oscar's add-to-basket form
would (a line whose stock is short is refused there, so the buyer leaves it out), the
offers are applied as Oscar's basket middleware does, the checkout session is given the
buyer's address and the default shipping method, and Oscar's PaymentDetailsView checks
its pre-conditions (every line still available), builds the submission and submits it:
order number, frozen basket, OrderCreator (order, lines, prices, stock allocated in
stock-record order), the confirmation email rendered, the basket submitted."""

import json

from django.http import HttpResponse, JsonResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oscar.apps.checkout.exceptions import FailedPreCondition
from oscar.apps.checkout.utils import CheckoutSessionData
from oscar.apps.checkout.views import PaymentDetailsView
from oscar.apps.offer.applicator import Applicator
from oscar.apps.partner.strategy import Selector
from oscar.core.loading import get_model

Basket = get_model("basket", "Basket")
Product = get_model("catalogue", "Product")


def bare(request):
    return HttpResponse("ok")


class PlaceOrderView(PaymentDetailsView):
    @classmethod
    def as_view(cls, **initkwargs):
        return csrf_exempt(super().as_view(**initkwargs))

    def dispatch(self, request, *args, **kwargs):
        # The checkout session without PaymentDetailsView's pre-conditions: they are
        # checked in post(), once the basket holds the order's lines.
        self.checkout_session = CheckoutSessionData(request)
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "sign in first"}, status=403)
        return View.dispatch(self, request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            wanted = {
                line["sku"]: int(line["quantity"]) for line in json.loads(request.body)["lines"]
            }
        except (ValueError, KeyError, TypeError):
            return JsonResponse({"lines": "a list of {sku, quantity}"}, status=400)
        user = request.user
        strategy = Selector().strategy(request=request, user=user)
        basket = Basket.objects.create(owner=user)
        basket.strategy = strategy
        request.basket, request.strategy = basket, strategy
        products = Product.objects.filter(stockrecords__partner_sku__in=wanted)
        added = short = 0
        for product in products.prefetch_related("stockrecords"):
            quantity = wanted[product.stockrecords.all()[0].partner_sku]
            # AddToBasketForm's checks: the basket's limit and the product's availability.
            permitted, _ = basket.is_quantity_allowed(quantity)
            info = strategy.fetch_for_product(product)
            if not permitted or not info.availability.is_purchase_permitted(quantity)[0]:
                short += 1
                continue
            basket.add_product(product, quantity)
            added += 1
        basket.reset_offer_applications()
        Applicator().apply(basket, user, request)

        # The address book's entry a buyer picks (by id, as Oscar's shipping-address page does).
        self.checkout_session.ship_to_user_address(user.addresses.order_by("pk").first())
        self.checkout_session.use_shipping_method("free-shipping")
        try:
            self.check_pre_conditions(request)
        except FailedPreCondition as refused:
            return JsonResponse({"detail": refused.messages, "short": short}, status=409)
        response = self.submit(**self.build_submission(basket=basket))
        # Placed, Oscar redirects to its thank-you page (with the order's id in the session);
        # otherwise it renders the preview page again with the error.
        if response.status_code != 302:
            return JsonResponse({"detail": "not placed"}, status=500)
        return JsonResponse(
            {"order": request.session["checkout_order_id"], "lines": added, "short": short},
            status=201,
            headers={"Location": response.url},
        )
