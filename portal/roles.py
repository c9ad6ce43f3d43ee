"""The brand's staff roles, as Django groups with the permissions each role needs."""

from django.db.models import TextChoices


class StaffRole(TextChoices):
    CS_AGENT = "Customer service agents", "Customer service agent"
    CS_LEAD = "Customer service leads", "Customer service lead"
    PLANNER = "Planners", "Planner"
    INTEGRATION = "Integrations", "Integration (ERP / warehouse)"


# Permission codenames per role, as "app_label.codename"; missing ones are skipped so
# the groups can be created before every app has migrated.
ROLE_PERMISSIONS = {
    StaffRole.PLANNER: [
        "inventory.view_style",
        "inventory.change_style",
        "inventory.view_sku",
        "inventory.change_sku",
        "inventory.view_stocklevel",
        "inventory.view_inboundrun",
        "inventory.add_inboundrun",
        "inventory.change_inboundrun",
        "inventory.view_inboundline",
        "inventory.view_etachange",
        "inventory.change_eta",
        "inventory.sync_stock",
    ],
    StaffRole.CS_AGENT: [
        "orders.view_account",
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_shipment",
        "orders.view_invoice",
        "orders.view_creditmemo",
        "orders.add_creditmemo",
        "orders.view_returnauthorization",
        "orders.add_returnauthorization",
        "orders.change_returnauthorization",
        "orders.view_case",
        "orders.add_case",
        "orders.change_case",
        "orders.view_claim",
        "orders.view_caseentry",
        "orders.add_caseentry",
        "orders.send_replacement",
        "orders.cancel_order_lines",
        "orders.view_creditapproval",
        "orders.add_creditapproval",
        "orders.view_auditevent",
        "orders.view_commercialterms",
        "notifications.view_message",
        "notifications.resend_message",
        "webhooks.view_endpoint",
        "webhooks.view_delivery",
        "webhooks.retry_delivery",
        "inventory.view_sku",
        "inventory.view_style",
        "inventory.view_stocklevel",
        "inventory.view_inboundrun",
        "inventory.change_eta",
    ],
    StaffRole.INTEGRATION: [
        "inventory.sync_stock",
        "inventory.change_eta",
        "inventory.add_inboundrun",
        "inventory.change_inboundrun",
        "inventory.view_inboundrun",
        "orders.add_shipment",
        "orders.change_returnauthorization",
        "webhooks.receive_all_accounts",
    ],
}
ROLE_PERMISSIONS[StaffRole.CS_LEAD] = [
    *ROLE_PERMISSIONS[StaffRole.CS_AGENT],
    "orders.change_account",
    "orders.decide_creditapproval",
    "orders.change_commercialterms",
]


def staff_groups_ensure(**kwargs):
    """Create the staff groups and grant their permissions; safe to run any number of times."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*wanted)
