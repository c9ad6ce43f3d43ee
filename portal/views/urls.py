"""The retailer and rep portal's pages."""

from django.urls import path

from portal.views import (
    account_settings,
    accounts,
    alerts,
    backorders,
    calendar,
    cases,
    catalogue,
    credits,
    dashboard,
    documents,
    exports,
    line_sheets,
    ordering,
    orders,
    policies,
    profile,
    reps,
    scorecard,
)
from portal.views import notifications as notification_views

urlpatterns = [
    # Dashboard, account switching and the user's own pages
    path("", dashboard.dashboard, name="dashboard"),
    path("core/reorder/", dashboard.core_reorder, name="core_reorder"),
    path("account/switch/", accounts.account_switch, name="account_switch"),
    path("account/settings/", account_settings.account_settings, name="account_settings"),
    path("profile/", profile.profile, name="profile"),
    path("profile/tokens/new/", profile.api_token_new, name="api_token_new"),
    path("profile/tokens/revoke/", profile.api_token_delete, name="api_token_revoke"),
    # Catalogue, quick lists and the cart
    path("catalogue/", catalogue.catalogue, name="catalogue"),
    path("catalogue/line-sheet/", line_sheets.line_sheet, name="line_sheet"),
    path("catalogue/<str:style_number>/", ordering.style_detail, name="style_detail"),
    path("availability/<str:style_number>/", calendar.availability, name="style_availability"),
    path("lists/<slug:kind>/", ordering.quick_list_page, name="quick_list"),
    path("alerts/", alerts.stock_alert_list, name="stock_alerts"),
    path("alerts/new/", alerts.stock_alert_new, name="stock_alert_new"),
    path(
        "alerts/<int:alert_id>/cancel/", alerts.stock_alert_cancel_view, name="stock_alert_cancel"
    ),
    path("cart/", ordering.cart, name="cart"),
    path("cart/add/", ordering.cart_add, name="cart_add"),
    path("cart/lines/<int:sku_id>/", ordering.cart_line_update, name="cart_line_update"),
    path("cart/empty/", ordering.cart_empty, name="cart_empty"),
    path("cart/paste/", ordering.paste_upload, name="paste_upload"),
    path("cart/review/", ordering.review, name="review"),
    path("cart/submit/", ordering.submit, name="submit"),
    # Orders and backorders
    path("orders/", orders.order_list, name="order_list"),
    path("orders/<str:number>/", orders.order_detail, name="order_detail"),
    path("orders/<str:number>/cancel/", orders.order_cancel_view, name="order_cancel"),
    path("orders/<str:number>/edit/", orders.order_edit_view, name="order_edit"),
    path("orders/<str:number>/reorder/", ordering.reorder, name="reorder"),
    path("backorders/", backorders.backorder_list, name="backorders"),
    path(
        "backorders/<int:line_id>/decision/",
        backorders.backorder_decide_view,
        name="backorder_decide",
    ),
    path("backorders/decide/<str:token>/", backorders.decision_link, name="decision_link"),
    path("backorders/decisions/", backorders.decisions_page, name="decisions"),
    path("backorders/answer/<str:token>/", backorders.decisions_link, name="decisions_link"),
    # Downloads of the lists, with their filters
    path("exports/<slug:name>.<slug:file_format>", exports.export_download, name="export"),
    # Shipments, invoices and statements
    path("shipments/", documents.shipment_list, name="shipment_list"),
    path(
        "shipments/<str:number>/packing-list.pdf",
        documents.packing_list_pdf,
        name="packing_list_pdf",
    ),
    path("invoices/", documents.invoice_list, name="invoice_list"),
    path("invoices/<str:number>/", credits.invoice_detail, name="invoice_detail"),
    path("invoices/<str:number>/pdf/", documents.invoice_pdf, name="invoice_pdf"),
    path(
        "invoices/<str:number>/pdf/<str:token>/",
        documents.invoice_download,
        name="invoice_download",
    ),
    path("shipments/<str:number>/claim/", cases.claim_new, name="claim_new"),
    path("claims/<str:number>/photos/<int:photo_id>/", cases.claim_photo, name="claim_photo"),
    path("credit-memos/", credits.credit_memo_list, name="credit_memo_list"),
    path("returns/<str:number>/label.pdf", documents.return_label_pdf, name="return_label_pdf"),
    path("credit-memos/<str:number>/pdf/", documents.credit_memo_pdf, name="credit_memo_pdf"),
    path("statement/", documents.statement, name="statement"),
    path("statement/pdf/", documents.statement_download, name="statement_pdf"),
    # Service cases, and replies to them by email
    path("cases/", cases.case_list, name="case_list"),
    path("cases/<str:number>/", cases.case_detail, name="case_detail"),
    path("cases/<str:number>/messages/", cases.case_message, name="case_message"),
    path("inbound/email/", cases.inbound_email, name="inbound_email"),
    # Production calendar, scorecard, policies
    path("calendar/", calendar.calendar, name="calendar"),
    path("scorecard/", scorecard.scorecard, name="scorecard"),
    path("policies/", policies.policies, name="policies"),
    # Sales reps
    path("reps/", reps.rep_accounts_list, name="rep_accounts"),
    path("reps/accounts/<int:account_id>/", reps.rep_account_detail, name="rep_account"),
    # Notifications
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
