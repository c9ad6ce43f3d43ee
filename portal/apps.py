from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal.roles import staff_groups_ensure

        # Staff groups and their permissions are reference data every install needs.
        post_migrate.connect(staff_groups_ensure, dispatch_uid="portal.staff_groups_ensure")
