"""The rules by which `digest run` gives up on a run handed over to `digest serve`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest.cli.handover import LEASE, TAKE_TIMEOUT, Heartbeat, abandoned, not_taken

BEAT = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def test_a_request_nobody_took_is_cancelled_after_the_shorter_wait() -> None:
    assert not not_taken(10.0, 60.0, service_gone=False)
    assert not_taken(61.0, 60.0, service_gone=False)  # the caller's --wait is over
    # A long --wait still gives up when the service has not taken it in TAKE_TIMEOUT.
    assert not not_taken(TAKE_TIMEOUT - 1, 3 * TAKE_TIMEOUT, service_gone=False)
    assert not_taken(TAKE_TIMEOUT + 1, 3 * TAKE_TIMEOUT, service_gone=False)


def test_a_request_nobody_took_is_cancelled_at_once_when_the_service_is_gone() -> None:
    assert not_taken(1.0, 60.0, service_gone=True)


def test_a_taken_request_is_abandoned_when_its_heartbeat_is_silent_past_the_lease() -> None:
    assert abandoned(LEASE - 1, service_gone=False) is None
    assert abandoned(LEASE + 4, service_gone=False) == f"sent no heartbeat for {LEASE + 4:.0f}s"


def test_a_taken_request_is_abandoned_when_its_service_is_gone() -> None:
    assert abandoned(0.0, service_gone=True) == "stopped"


def test_silence_counts_from_the_last_new_heartbeat_in_monotonic_time() -> None:
    heartbeat = Heartbeat(None, 100.0)
    assert heartbeat.silent_for(None, 110.0) == 10.0  # none yet: since the request was added
    assert heartbeat.silent_for(BEAT, 112.0) == 0.0  # a new beat restarts the count
    assert heartbeat.silent_for(BEAT, 140.0) == 28.0  # the same beat read again
    # A beat stamped earlier by the wall clock (a step back) is still a new beat.
    assert heartbeat.silent_for(BEAT - timedelta(hours=1), 141.0) == 0.0
    assert heartbeat.at == BEAT - timedelta(hours=1)
