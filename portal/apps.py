from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal.roles import staff_groups_ensure

        self._access_signals_connect()
        from django.db.backends.signals import connection_created

        from portal.page_cache import connection_watch

        # Every write through Django raises the data version cached pages are stamped with.
        connection_created.connect(connection_watch, dispatch_uid="portal.page_cache")

        # Staff groups and their permissions are reference data every install needs.
        post_migrate.connect(staff_groups_ensure, dispatch_uid="portal.staff_groups_ensure")

    @staticmethod
    def _access_signals_connect():
        """Every write that can change what the signed-in frame shows or allows raises
        the access version (portal.frame_cache): users, memberships, accounts, groups
        and permissions, row writes and many-to-many changes alike."""
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from orders.models import Account, Membership
        from portal.frame_cache import access_version_bump
        from portal.models import User

        for model in (User, Membership, Account, Group, Permission):
            for signal in (post_save, post_delete):
                signal.connect(access_version_bump, sender=model, dispatch_uid=f"access:{model}")
        for through in (
            User.groups.through,
            User.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(
                access_version_bump, sender=through, dispatch_uid=f"access:{through}"
            )
