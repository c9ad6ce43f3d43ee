"""The audit trail read as sentences: "Maria Lopez issued credit memo CM-000012 for
$120.00 on INV-000031." instead of the raw {field: [old, new]} a record stores."""

from orders.models import AuditEvent

# What each kind of record says; {target} is the object, {changes} the fields that
# moved, and any other name the new value of that field in the record.
SENTENCES = {
    "case.opened": "opened {target}",
    "case.resolved": "resolved {target}",
    "case.assigned": "gave {target} to {owner}",
    "credit.issued": "issued credit memo {credit_memo} for {credit} on {target}",
    "credit.requested": "asked for a credit of {credit} on {target}, above their authority",
    "credit.approved": "approved the request on {target} ({credit_memo}{replacement_order})",
    "credit.rejected": "rejected the request on {target}",
    "replacement.sent": "sent replacement order {replacement_order} for {target} at no "
    "charge, worth {value}",
    "replacement.requested": "asked to send a replacement for {target} worth {value}, above "
    "their authority",
    "return.authorized": "authorized return {return_authorization} on {target} ({items})",
    "return.received": "recorded return {target} as received at the warehouse ({items})",
    "return.credited": "credited return {target} ({credit_memo})",
    "return.closed": "closed return {target}",
    "order.lines_cancelled": "cancelled lines on {target}: {changes}",
    "message.resent": "resent {target}",
    "eta.changed": "moved the ETA of {target}: {changes}",
    "terms.published": "published {target}: {changes}",
    "admin.added": "added {target}",
    "admin.changed": "changed {target}: {changes}",
    "admin.deleted": "deleted {target}",
}
MONEY_FIELDS = {"credit", "value"}


class _Values(dict):
    """Field values for a sentence: missing ones read as blank, not as an error."""

    def __missing__(self, key):
        return ""


def _shown(field, value) -> str:
    if value in (None, ""):
        return ""
    if field in MONEY_FIELDS:
        return f"${value}"
    if isinstance(value, dict):
        return ", ".join(f"{quantity} × {code}" for code, quantity in value.items())
    return str(value)


def _change_list(changes: dict) -> str:
    parts = []
    for field, pair in changes.items():
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        label = field.replace("_", " ")
        if old in (None, ""):
            parts.append(f"{label} set to {_shown(field, new)}")
        elif new in (None, ""):
            parts.append(f"{label} cleared (was {_shown(field, old)})")
        else:
            parts.append(f"{label} from {_shown(field, old)} to {_shown(field, new)}")
    return "; ".join(parts) or "nothing changed"


def audit_sentence(event: AuditEvent) -> str:
    """One record as a sentence: who did what, and why."""
    changes = event.changes if isinstance(event.changes, dict) else {}
    values = _Values(target=event.object_repr, changes=_change_list(changes))
    for field, pair in changes.items():
        new = pair[1] if isinstance(pair, list | tuple) and len(pair) == 2 else pair
        values[field] = _shown(field, new)
    template = SENTENCES.get(event.action)
    what = (
        template.format_map(values).replace(" ()", "")
        if template
        else f"{event.action.replace('.', ' ').replace('_', ' ')} {event.object_repr}"
    )
    who = (event.actor.get_full_name() or event.actor.email) if event.actor else "The system"
    reason = (event.reason or "").strip()
    return f"{who} {what}." + (f" Why: {reason}" if reason else "")
