"""The project's settings with its own apps listed in the opposite order: the admin must
come out the same (tests/orders/test_admin_house.py)."""

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS

_OURS = ["portal", "inventory", "orders", "backorders", "notifications"]
INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in _OURS] + _OURS[::-1]
