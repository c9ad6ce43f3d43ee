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
