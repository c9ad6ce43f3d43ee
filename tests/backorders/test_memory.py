"""The collector pause around the fan-out jobs (backorders.memory) always gives the
collector back as it found it."""

import gc

import pytest

from backorders.memory import collector_paused


class Failed(Exception):
    pass


@pytest.fixture
def collector_restored():
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_inside_and_running_after(collector_restored):
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_runs_again_after_a_job_that_failed(collector_restored):
    gc.enable()
    with pytest.raises(Failed), collector_paused():
        raise Failed
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused(collector_restored):
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
