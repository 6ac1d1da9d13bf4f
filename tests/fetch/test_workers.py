"""workers: the cycle collector is paused for a pass and given back as it was."""

from __future__ import annotations

import gc

import pytest

from digest.fetch.workers import collector_paused


def test_the_collector_is_paused_during_a_pass_and_enabled_again_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a pass that fails")
    assert gc.isenabled()


def test_a_caller_that_paused_the_collector_keeps_it_paused() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
