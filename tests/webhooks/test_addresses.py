"""SSRF: webhooks go to public addresses only, checked at subscription and on delivery."""

import pytest

from orders.webhooks.addresses import target_resolve
from orders.webhooks.exceptions import UnsafeWebhookURL
from tests.webhooks.conftest import resolving


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://127.1.2.3:8080/hooks",
        "http://localhost/hooks",
        "http://10.0.0.5/hooks",
        "http://172.16.4.4/hooks",
        "http://192.168.1.10/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hooks",
        "http://0.0.0.0/hooks",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[fe80::1]/hooks",
        "http://[fd00::1]/hooks",
        "http://224.0.0.1/hooks",
        "http://240.0.0.1/hooks",
    ],
)
def test_loopback_private_link_local_and_reserved_addresses_are_refused(url):
    with pytest.raises(UnsafeWebhookURL, match="public internet addresses"):
        target_resolve(url)


def test_a_hostname_resolving_to_a_private_address_is_refused(monkeypatch):
    resolving(monkeypatch, {"erp.example.com": ["10.1.2.3"]})
    with pytest.raises(UnsafeWebhookURL, match="10.1.2.3"):
        target_resolve("https://erp.example.com/hooks")


def test_every_resolved_address_is_checked_not_only_the_first(monkeypatch):
    resolving(monkeypatch, {"erp.example.com": ["93.184.216.34", "192.168.0.7"]})
    with pytest.raises(UnsafeWebhookURL, match="192.168.0.7"):
        target_resolve("https://erp.example.com/hooks")


def test_a_public_address_is_the_target(monkeypatch):
    resolving(monkeypatch, {"erp.example.com": ["93.184.216.34"]})
    target = target_resolve("https://erp.example.com:8443/hooks")
    assert (target.host, target.port, str(target.address)) == (
        "erp.example.com",
        8443,
        "93.184.216.34",
    )


@pytest.mark.parametrize(
    "url",
    ["ftp://93.184.216.34/x", "file:///etc/passwd", "http://user:pw@93.184.216.34/", "http:///x"],
)
def test_other_schemes_credentials_and_no_host_are_refused(url):
    with pytest.raises(UnsafeWebhookURL):
        target_resolve(url)


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeWebhookURL, match="does not resolve"):
        target_resolve("https://no-such-host.invalid/hooks")


def test_the_development_setting_allows_a_local_receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    assert str(target_resolve("http://127.0.0.1:9000/hooks").address) == "127.0.0.1"


def test_private_targets_are_off_by_default_and_never_in_production():
    from portal import settings_production

    assert settings_production.WEBHOOKS_ALLOW_PRIVATE_TARGETS is False
