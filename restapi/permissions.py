"""Reusable API permissions."""

from rest_framework.permissions import BasePermission


class HasStaffPermission(BasePermission):
    """Users holding every one of `perms` ("app_label.codename"), through a role (a group
    from portal.roles) or their own grants. `is_staff` is not asked: it opens the admin,
    and an integration account (the ERP's token) must not need it, nor a superuser.

    Configure it per view with `require`, optionally only for some methods (the others are
    left to the view's other permission classes):

        permission_classes = [
            IsAuthenticated,
            HasStaffPermission.require("inventory.add_inboundrun", methods=["POST"]),
        ]
    """

    perms: tuple[str, ...] = ()
    methods: frozenset[str] | None = None  # None: every method
    message = "Only the brand's staff with the right permission may do this."

    @classmethod
    def require(cls, *perms: str, methods=None) -> type["HasStaffPermission"]:
        if not perms:
            raise ValueError("Name at least one permission.")
        return type(
            cls.__name__,
            (cls,),
            {
                "perms": tuple(perms),
                "methods": frozenset(m.upper() for m in methods) if methods else None,
            },
        )

    def has_permission(self, request, view):
        if self.methods is not None and request.method not in self.methods:
            return True
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and self.perms
            and user.has_perms(self.perms)
        )
