import pytest

from orders.models import Case
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_a_case_is_known_by_its_padded_number():
    case = CaseFactory()

    assert case.number == f"CS-{case.pk:06d}"
    assert Case.objects.with_number(case.number).get() == case
    assert Case.objects.with_number(case.number.lower()).get() == case


@pytest.mark.parametrize("number", ["", "CS-", "CS-12a", "CS--1", "CS-١٢", "CS-" + "9" * 13, None])
def test_a_malformed_case_number_finds_nothing(number):
    CaseFactory()

    assert not Case.objects.with_number(number).exists()
