"""Turning a message (kind + context) into a subject, a plain-text body and an HTML body.

HTML goes through the project's Django template engine (autoescaped). Plain text and
subjects go through a second engine with autoescaping off, so "Smith & Sons" stays
as typed. Subjects are forced onto one line: whatever a caller put in the context
(a PO number with CR/LF in it, say) can never add a header.
"""

import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.template import Context, Engine
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.safestring import mark_safe

from notifications.kinds import MessageKind, context_complete

BRAND_NAME = "Trailwise Wholesale"
SUBJECT_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")
_SPACES = re.compile(r"\s+")

HTML_LAYOUT = "notifications/layouts/email.html"
TEXT_LAYOUT = "notifications/layouts/email.txt"
HTML_FRAGMENT = "notifications/layouts/fragment.html"
TEXT_FRAGMENT = "notifications/layouts/fragment.txt"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def _text_engine() -> Engine:
    dirs = [str(d) for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    return Engine(
        dirs=dirs,
        app_dirs=True,
        autoescape=False,
        libraries={"notification_tags": "notifications.templatetags.notification_tags"},
    )


def _render_text(template_name: str, context: dict) -> str:
    template = _text_engine().get_template(template_name)
    return template.render(Context(context, autoescape=False))


def clean_subject(value: str) -> str:
    """One line, no control characters, at most SUBJECT_MAX characters."""
    value = _SPACES.sub(" ", _CONTROL.sub(" ", value or "")).strip()
    if len(value) > SUBJECT_MAX:
        value = value[: SUBJECT_MAX - 1].rstrip() + "…"
    return value


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def password_reset_url(user) -> str:
    """A link to choose a new password, made at sending time from SITE_URL (never from
    the request's Host header). It works once, for PASSWORD_RESET_TIMEOUT seconds."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return _site_url(path)


def base_context(*, recipient_name: str = "") -> dict:
    return {
        "brand_name": BRAND_NAME,
        "site_url": settings.SITE_URL,
        "feed_url": _site_url(reverse("portal:notifications")),
        "preferences_url": _site_url(reverse("portal:notification_preferences")),
        "recipient_name": recipient_name,
    }


def render_subject(
    *, kind: str, context: dict, subject_hint: str = "", base: dict | None = None
) -> str:
    """`base` is base_context(), passed in by a caller rendering many subjects. A kind's
    subject about a store names it (a buyer of several stores gets each one's messages);
    a hint is the caller's whole subject."""
    if subject_hint:
        return clean_subject(subject_hint)
    ctx = {**(base or base_context()), **context}
    subject = _render_text(f"notifications/{kind}_subject.txt", ctx)
    store = context.get("account_name")
    if isinstance(store, str) and store and store not in subject:
        subject = f"{store}: {subject}"
    return clean_subject(subject)


def render_body(
    *, kind: str, context: dict, recipient_name: str = "", fragment: bool = False
) -> tuple[str, str]:
    """(text, html) for one kind. ``fragment`` renders without the email frame, for
    the digest."""
    ctx = {**base_context(recipient_name=recipient_name), **context_complete(kind, context)}
    ctx["kind_label"] = MessageKind(kind).label
    text = _render_text(
        f"notifications/{kind}.txt", {**ctx, "layout": TEXT_FRAGMENT if fragment else TEXT_LAYOUT}
    )
    html = render_to_string(
        f"notifications/{kind}.html", {**ctx, "layout": HTML_FRAGMENT if fragment else HTML_LAYOUT}
    )
    return _tidy_text(text), html


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return out + "\n"


def render_message(message) -> RenderedEmail:
    """The email for an outbox row (a digest renders its held items)."""
    name = message.recipient.get_short_name() if message.recipient_id else ""
    if message.kind == MessageKind.DIGEST:
        items = []
        for item in message.digest_items.order_by("created_at", "pk"):
            text, html = render_body(
                kind=item.kind, context=item.context, recipient_name=name, fragment=True
            )
            items.append(
                {
                    "subject": item.subject,
                    "kind_label": item.get_kind_display(),
                    "created_at": item.created_at,
                    "text": text,
                    "html": mark_safe(html),  # rendered by our own autoescaping templates
                }
            )
        context = {**message.context, "items": items}
    elif message.kind == MessageKind.PASSWORD_RESET:
        context = {**message.context, "reset_url": password_reset_url(message.recipient)}
    else:
        context = message.context
    text, html = render_body(kind=message.kind, context=context, recipient_name=name)
    return RenderedEmail(subject=clean_subject(message.subject), text=text, html=html)
