"""Schemathesis against the live schema, served by the WSGI app on a database with a
little data: every operation, with valid and with invalid input, as a retailer and (for
the staff feeds) as the brand's integration user.

Bounded and reproducible: a few examples per operation and mode, derandomized, no
deadline. Checks: no 5xx, documented status codes and content types, and bodies that
match the documented schemas."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 10  # per operation and generation mode

STAFF_OPERATIONS = {
    "POST /api/v1/inbound/",
    "POST /api/v1/inbound/{reference}/eta/",
    "POST /api/v1/inbound/{reference}/receive/",
    "POST /api/v1/inbound/{reference}/cancel/",
    "POST /api/v1/stock/sync/",
    "POST /api/v1/shipments/",
}


@pytest.fixture
def live_schema(db):
    # As Django's test client does: the test's transaction is the requests' connection,
    # so the end of a request must not close it.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _fuzz(schema, user, only=None):
    """Run every operation (or those in `only`); returns (operations, examples, failures)."""
    _, key = AuthToken.objects.create(user=user)
    headers = {"Authorization": f"Token {key}"}
    operations, examples, failures = 0, 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if only is not None and label not in only:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent: list[str] = []
            try:
                _property(operation, mode, headers, sent)()
            except Unsatisfiable:
                # Nothing to negate: an operation whose only input is a free-form string.
                assert mode == GenerationMode.NEGATIVE, label
            except Exception as error:  # noqa: BLE001 - collected and reported below
                failures.append(f"{label} [{mode.value}]: {error}")
            examples += len(sent)
    return operations, examples, failures


def _property(operation, mode, headers, sent):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        sent.append(case.path)
        case.call_and_validate(headers=headers, checks=CHECKS)

    return check


@pytest.mark.slow
def test_every_operation_as_a_retailer(live_schema, world, buyer):
    operations, examples, failures = _fuzz(live_schema, buyer)
    print(f"retailer: {operations} operations, {examples} examples, {len(failures)} failures")
    assert operations == 33  # every operation in the schema
    assert examples >= operations * 2
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_staff_feeds_as_the_integration_user(live_schema, world, integration_user):
    operations, examples, failures = _fuzz(live_schema, integration_user, STAFF_OPERATIONS)
    print(f"staff: {operations} operations, {examples} examples, {len(failures)} failures")
    assert operations == len(STAFF_OPERATIONS)
    assert not failures, "\n\n".join(failures)
