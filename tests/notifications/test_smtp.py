"""One delivery through a real SMTP server on 127.0.0.1 (aiosmtpd), parsed with the
standard library's email package."""

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller

from notifications.kinds import MessageKind
from notifications.models import MessageStatus
from notifications.samples import SAMPLE_CONTEXTS
from notifications.services import message_deliver, message_enqueue
from tests.factories import UserFactory
from tests.notifications.conftest import free_port

pytestmark = pytest.mark.django_db


class Collector:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


def test_delivers_a_multipart_message_through_smtp_without_injected_headers(smtp_server):
    # given: an order confirmation whose PO number tries to inject a Bcc
    user = UserFactory(email="buyer@comfortshoes.example", full_name="Dana Reyes")
    context = {
        **SAMPLE_CONTEXTS[MessageKind.ORDER_CONFIRMATION],
        "po_number": "PO-7781\r\nBcc: thief@evil.example",
        "account_name": "Smith & Sons <Shoes>",
    }
    (message,) = message_enqueue(
        kind=MessageKind.ORDER_CONFIRMATION,
        key="order:SO-10042",
        recipients=[user],
        context=context,
    )

    # when
    assert message_deliver(message_id=message.pk).outcome == "sent"

    # then: exactly one envelope, to the buyer only
    (envelope,) = smtp_server.envelopes
    assert envelope.rcpt_tos == ["buyer@comfortshoes.example"]
    assert envelope.mail_from == "orders@trailwise.example"
    parsed = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert parsed["To"] == "buyer@comfortshoes.example"
    assert parsed["From"] == "Trailwise Wholesale <orders@trailwise.example>"
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == (
        "Smith & Sons <Shoes>: Order SO-10042 confirmed (PO PO-7781 Bcc: thief@evil.example)"
    )
    assert parsed["Message-ID"] == f"<outbox-{message.pk}@trailwise.example>"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert "Hello Dana," in text
    assert "Smith & Sons <Shoes>" in text  # plain text is not HTML-escaped
    assert "Smith &amp; Sons &lt;Shoes&gt;" in html  # HTML is
    assert "WLK-BLK-090M" in text
    assert "WLK-BLK-090M" in html
    assert "$1,860.00" in html
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
