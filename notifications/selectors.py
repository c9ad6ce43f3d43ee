"""Read use cases: the portal feed, the unread count, a user's preferences."""

from dataclasses import dataclass

from django.db.models import Subquery

from notifications.kinds import MessageKind, configurable_kinds, spec_for
from notifications.models import DeliveryMode, Message, NotificationPreference


def feed_for_user(*, user, limit: int = 50) -> list[Message]:
    """The user's newest messages for the portal feed (one query)."""
    return list(
        Message.objects.for_recipient(user)
        .in_feed()
        .only("pk", "kind", "subject", "context", "created_at", "read_at", "status")
        .order_by("-created_at", "-pk")[:limit]
    )


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Message.objects.for_recipient(user).in_feed().unread().count()


def message_link(message: Message) -> str:
    """The link the feed opens for a message (the order, the decision page, ...)."""
    url_key = spec_for(message.kind).url_key
    url = (message.context or {}).get(url_key, "") if url_key else ""
    return url if isinstance(url, str) and url.startswith(("http://", "https://", "/")) else ""


@dataclass(frozen=True)
class PreferenceRow:
    kind: str
    label: str
    enabled: bool
    mode: str
    locked: bool  # always on and immediate (decision requests)


def preferences_for_user(*, user) -> list[PreferenceRow]:
    """One row per kind the user can choose about, with the default where unset."""
    saved = {p.kind: p for p in NotificationPreference.objects.for_user(user)}
    rows = []
    for kind in configurable_kinds():
        locked = spec_for(kind).always_immediate
        pref = saved.get(kind.value)
        rows.append(
            PreferenceRow(
                kind=kind.value,
                label=MessageKind(kind).label,
                enabled=True if locked or pref is None else pref.enabled,
                mode=DeliveryMode.IMMEDIATE if locked or pref is None else pref.mode,
                locked=locked,
            )
        )
    return rows


def preference_columns(*, kind: str, user) -> dict:
    """Annotations reading a user's preference for one kind with another query's rows
    (``user``: an OuterRef to the user): pass the rows to preference_from, and the
    result to message_enqueue(preferences=...), which then reads none."""
    chosen = NotificationPreference.objects.filter(user=user, kind=kind)
    return {
        "preference_enabled": Subquery(chosen.values("enabled")[:1]),
        "preference_mode": Subquery(chosen.values("mode")[:1]),
    }


def preference_from(row) -> NotificationPreference | None:
    """The preference a row annotated with preference_columns carries (None: no row, the
    default)."""
    if row.preference_enabled is None:
        return None
    return NotificationPreference(
        user_id=row.user_id, enabled=row.preference_enabled, mode=row.preference_mode
    )
