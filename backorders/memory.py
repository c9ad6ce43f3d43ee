"""Batch work that builds tens of thousands of model instances in one go."""

import contextlib
import gc


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector for one batch, then resume it as it was.
    An ETA change over 20,000 lines builds some 50,000 model instances with their
    dicts, and the collector ran about 700 times inside it, each pass over everything
    the process holds: 3.0 s for the change against 2.4 s with the collector paused.
    Those instances form no reference cycles (reference counting frees them) and the
    batch holds them to its end anyway, so the pause keeps nothing alive longer; a
    cycle made meanwhile is collected after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
