import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIRequestFactory

from restapi.permissions import HasStaffPermission
from tests.factories import UserFactory
from tests.inventory.conftest import staff_with

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()
PUSH = HasStaffPermission.require("inventory.add_inboundrun", "inventory.change_inboundrun")
PUSH_POST_ONLY = HasStaffPermission.require("inventory.add_inboundrun", methods=["post"])


def allowed(permission, user, method="post"):
    request = getattr(factory, method)("/")
    request.user = user
    return permission().has_permission(request, view=None)


def test_staff_with_every_required_permission_is_allowed():
    assert allowed(PUSH, staff_with("add_inboundrun", "change_inboundrun"))


def test_staff_missing_one_permission_is_refused():
    assert not allowed(PUSH, staff_with("add_inboundrun"))


def test_an_integration_user_with_the_permissions_but_not_staff_is_allowed():
    # The ERP's token holds the feed permissions through its role, never the admin flag.
    user = staff_with("add_inboundrun", "change_inboundrun")
    user.is_staff = False
    user.save(update_fields=["is_staff"])
    assert allowed(PUSH, user)


def test_a_retailer_without_the_permissions_is_refused():
    assert not allowed(PUSH, UserFactory())


def test_anonymous_and_inactive_users_are_refused():
    inactive = staff_with("add_inboundrun", "change_inboundrun")
    inactive.is_active = False
    assert not allowed(PUSH, AnonymousUser())
    assert not allowed(PUSH, inactive)


def test_methods_outside_the_configured_ones_are_left_to_other_permissions():
    retailer = UserFactory()
    assert allowed(PUSH_POST_ONLY, retailer, method="get")
    assert not allowed(PUSH_POST_ONLY, retailer, method="post")


def test_a_permission_class_must_name_a_permission():
    with pytest.raises(ValueError, match="at least one"):
        HasStaffPermission.require()
