from django.urls import path

from portal.views import accounts, dashboard

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("account/switch/", accounts.account_switch, name="account_switch"),
]
