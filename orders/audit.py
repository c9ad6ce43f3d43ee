"""The audit trail: one helper writes every record, inside the caller's transaction.

Services call ``audit_record`` for each staff action; the admin's save and delete paths
call it for direct edits of orders, accounts, stock levels and terms. Records are never
changed afterwards (the admin shows them read-only to everyone)."""

import datetime as dt
import decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from orders.models import AuditEvent


def _plain(value):
    """A JSON-safe rendering of a field value: dates ISO, money a decimal string."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(item) for item in value]
    return str(value)


def field_values(obj, fields=None) -> dict:
    """The concrete field values of a model instance (foreign keys as ids)."""
    values = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        values[field.name] = _plain(getattr(obj, field.attname))
    return values


def changes_between(before: dict, after: dict) -> dict:
    """{field: [old, new]} for each field whose value differs."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


@transaction.atomic(savepoint=False)
def audit_record(*, actor, action: str, obj, changes=None, reason: str = "", case=None):
    """Record that ``actor`` did ``action`` to ``obj`` (why, and what changed)."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action[:60],
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes={name: [_plain(old), _plain(new)] for name, (old, new) in (changes or {}).items()},
        reason=(reason or "")[:500],
        case=case,
    )


def audit_events_for(obj):
    """The audit trail of one object, newest first."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
    return AuditEvent.objects.filter(
        content_type=content_type, object_id=str(obj.pk)
    ).select_related("actor", "case")
