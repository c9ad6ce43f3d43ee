from django.urls import path

from portal.views import accounts, dashboard
from portal.views import notifications as notification_views

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("account/switch/", accounts.account_switch, name="account_switch"),
    path("notifications/", notification_views.notification_feed, name="notifications"),
    path(
        "notifications/unread/",
        notification_views.notification_unread_badge,
        name="notifications_unread",
    ),
    path(
        "notifications/read-all/",
        notification_views.notification_mark_all_read,
        name="notifications_read_all",
    ),
    path(
        "notifications/<int:message_id>/read/",
        notification_views.notification_mark_read,
        name="notification_read",
    ),
    path(
        "notifications/preferences/",
        notification_views.notification_preferences,
        name="notification_preferences",
    ),
]

# Dashboard reorder, production calendar, availability chart, scorecard, policies, reps.
from portal.views import calendar, policies, reps, scorecard  # noqa: E402

urlpatterns += [
    path("core/reorder/", dashboard.core_reorder, name="core_reorder"),
    path("calendar/", calendar.calendar, name="calendar"),
    path("availability/<str:style_number>/", calendar.availability, name="style_availability"),
    path("scorecard/", scorecard.scorecard, name="scorecard"),
    path("policies/", policies.policies, name="policies"),
    path("reps/", reps.rep_accounts_list, name="rep_accounts"),
    path("reps/accounts/<int:account_id>/", reps.rep_account_detail, name="rep_account"),
]

# Ordering (catalogue, size grids, quick lists, cart, paste/upload, review) and orders.
from portal.views import ordering, orders  # noqa: E402

urlpatterns += [
    path("catalogue/", ordering.catalogue, name="catalogue"),
    path("catalogue/<str:style_number>/", ordering.style_detail, name="style_detail"),
    path("lists/<slug:kind>/", ordering.quick_list_page, name="quick_list"),
    path("cart/", ordering.cart, name="cart"),
    path("cart/add/", ordering.cart_add, name="cart_add"),
    path("cart/lines/<int:sku_id>/", ordering.cart_line_update, name="cart_line_update"),
    path("cart/empty/", ordering.cart_empty, name="cart_empty"),
    path("cart/paste/", ordering.paste_upload, name="paste_upload"),
    path("cart/review/", ordering.review, name="review"),
    path("cart/submit/", ordering.submit, name="submit"),
    path("orders/", orders.order_list, name="order_list"),
    path("orders/<str:number>/", orders.order_detail, name="order_detail"),
    path("orders/<str:number>/cancel/", orders.order_cancel_view, name="order_cancel"),
    path("orders/<str:number>/reorder/", ordering.reorder, name="reorder"),
]

# Shipments, invoices, statement and their PDFs (portal.views.documents).
from portal.views import documents  # noqa: E402

urlpatterns += [
    path("shipments/", documents.shipment_list, name="shipment_list"),
    path(
        "shipments/<str:number>/packing-list.pdf",
        documents.packing_list_pdf,
        name="packing_list_pdf",
    ),
    path("invoices/", documents.invoice_list, name="invoice_list"),
    path("invoices/<str:number>/pdf/", documents.invoice_pdf, name="invoice_pdf"),
    path("credit-memos/<str:number>/pdf/", documents.credit_memo_pdf, name="credit_memo_pdf"),
    path("statement/", documents.statement, name="statement"),
    path("statement/pdf/", documents.statement_download, name="statement_pdf"),
]

# The user's own page and API tokens (portal.views.profile).
from portal.views import profile  # noqa: E402

urlpatterns += [
    path("profile/", profile.profile, name="profile"),
    path("profile/tokens/new/", profile.api_token_new, name="api_token_new"),
    path("profile/tokens/revoke/", profile.api_token_delete, name="api_token_revoke"),
]

# Backorders: the list, decisions, signed decision links; the account's backorder settings.
from portal.views import account_settings, backorders  # noqa: E402

urlpatterns += [
    path("backorders/", backorders.backorder_list, name="backorders"),
    path(
        "backorders/<int:line_id>/decision/",
        backorders.backorder_decide_view,
        name="backorder_decide",
    ),
    path("backorders/decide/<str:token>/", backorders.decision_link, name="decision_link"),
    path("account/settings/", account_settings.account_settings, name="account_settings"),
]
