import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from portal.models import User
from tests.conftest import api_client_for
from tests.factories import StaffFactory

# A Monday, so business-day arithmetic in promise tests is easy to read.
MONDAY = dt.date(2031, 3, 3)

PLANNER_PERMS = [
    "view_style",
    "change_style",
    "view_sku",
    "change_sku",
    "view_stocklevel",
    "change_stocklevel",
    "view_inboundrun",
    "add_inboundrun",
    "change_inboundrun",
    "view_inboundline",
    "add_inboundline",
    "change_inboundline",
    "view_etachange",
    "change_eta",
]


def staff_with(*codenames):
    user = StaffFactory()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="inventory", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)  # a fresh object: no stale permission cache


@pytest.fixture
def planner(db):
    return staff_with(*PLANNER_PERMS)


@pytest.fixture
def planner_api(planner):
    return api_client_for(planner)
