"""Run the service as a process: signal handlers, the health server and the main loop.

SIGTERM and SIGINT stop it (a second one, or the stop timeout, abandons the running job);
SIGHUP reloads the configuration. The scheduler and its jobs are digest/service/scheduler.py.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from digest.config import Settings
from digest.models import wall_clock
from digest.service.health import start_health_server
from digest.service.jobs import Stages, log_event
from digest.service.scheduler import Service
from digest.service.site import start_site_server
from digest.service.unsubscribe import Unsubscriber
from digest.store import Store


@dataclass
class _Signals:
    """What the signal handlers asked for; the main loop acts on it."""

    wake: threading.Event
    stop: int = 0
    reload: bool = False


def serve_forever(
    settings: Settings,
    store: Store,
    *,
    load: Callable[[], Settings] | None = None,
    health_host: str = "127.0.0.1",
    health_port: int | None = None,
    stop_timeout: float = 60.0,
    stages: Stages | None = None,
    site_http: tuple[str, int] | None = None,
) -> int:
    """Run the service until SIGTERM or SIGINT; return the exit code (0).

    The caller holds the database's run_lock. SIGHUP reloads the configuration. On the first
    SIGTERM/SIGINT the running job may finish (up to stop_timeout seconds); on a second one,
    or after the timeout, it is abandoned: the process exits at once, which the store's
    transactions and the delivery ledger make safe (a kill -9 is no worse).
    """
    signals = _Signals(threading.Event())
    previous = _install_signal_handlers(signals)
    service = Service(settings, store, load=load, stages=stages)
    server = None
    site = None
    try:
        secret = settings.unsubscribe_secret
        titles = {d.name: d.title for d in settings.digests}
        unsubscriber = Unsubscriber(store, secret, wall_clock, titles) if secret else None
        if health_port is not None:
            server = start_health_server(service.state, health_host, health_port, unsubscriber)
            log_event("health", host=health_host, port=server.port)
        if site_http is not None:  # the archive site the digest jobs publish (DATA_DIR/site)
            site = start_site_server(settings.data_dir / "site", *site_http, unsubscriber)
            log_event("site", host=site_http[0], port=site.port)
        service.start()
        log_event(
            "start",
            digests=len(settings.digests),
            feeds=len(settings.all_feeds),
            fetch_every=int(settings.fetch_every.total_seconds()),
        )
        while not signals.stop:
            signals.wake.wait(60)
            signals.wake.clear()
            if signals.reload and not signals.stop:
                signals.reload = False
                service.reload()
        log_event("stopping", timeout=stop_timeout)
        finished = service.stop(stop_timeout, force=lambda: signals.stop > 1)
        if not finished:
            log_event(
                "stop",
                logging.WARNING,
                abandoned=True,
                job=service.current_job or "?",
                note="an unfinished period is built again at the next start",
            )
            logging.shutdown()
            _exit_now()
        log_event("stop", abandoned=False)
        return 0
    finally:
        if server is not None:
            server.close()
        if site is not None:
            site.close()
        _restore_signal_handlers(previous)


def _exit_now() -> None:
    # The worker thread is not a daemon: a normal exit would wait for it. The OS releases the
    # file lock (and the database server the advisory lock) when the process is gone.
    os._exit(0)


def _install_signal_handlers(signals: _Signals) -> dict[int, Any]:
    def on_stop(signum: int, _frame: object) -> None:
        signals.stop += 1
        signals.wake.set()

    def on_reload(signum: int, _frame: object) -> None:
        signals.reload = True
        signals.wake.set()

    previous: dict[int, Any] = {}
    for signum, handler in (
        (signal.SIGTERM, on_stop),
        (signal.SIGINT, on_stop),
        (signal.SIGHUP, on_reload),
    ):
        previous[signum] = signal.signal(signum, handler)
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
