"""`digest serve` (the background service) and `digest status` (what it did and will do).

Exit codes of `digest serve`: 0 after SIGTERM/SIGINT (the running job finished or was
abandoned cleanly), 1 when another `digest serve` or `digest run` holds the database's lock
(the message names the holder), 2 for a configuration or database error.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.engine import make_url

from digest import __version__, service
from digest.cli.common import (
    EXIT_FAILED,
    ConfigOption,
    DataDirOption,
    console,
    fail,
    load,
    new_app,
    store_for,
)
from digest.cli.reports import llm_events, llm_fallbacks, plural
from digest.config import DigestSettings, Settings, load_settings
from digest.errors import ConfigError, LockError, StoreError
from digest.models import FeedState, LlmRun, RunReport, wall_clock
from digest.service import next_slot, parse_address
from digest.store import (
    ALL_DIGESTS,
    MIGRATIONS,
    SERVICE_ROLE,
    Store,
    backup,
    is_postgres,
    ledger,
    lock_holder,
    lock_path,
    migrate,
    open_store,
    run_lock,
    schema_of,
)
from digest.store import queue as job_queue

app = new_app()

LOG_FORMAT = "ts=%(asctime)s level=%(levelname)s %(message)s"
UNDELIVERED = ("pending", "retry", "failed", "sending")


@app.command("serve")
def serve_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    health_port: Annotated[
        int | None,
        typer.Option(
            "--health-port",
            envvar="DIGEST_HEALTH_PORT",
            help="Serve /healthz, /metrics and the one-click /unsubscribe (with "
            "DIGEST_UNSUBSCRIBE_SECRET) on this port (0: any free port, logged).",
        ),
    ] = None,
    health_host: Annotated[
        str,
        typer.Option(
            "--health-host",
            envvar="DIGEST_HEALTH_HOST",
            help="Address for the health endpoint (0.0.0.0 in a container).",
        ),
    ] = "127.0.0.1",
    stop_timeout: Annotated[
        float,
        typer.Option(
            "--stop-timeout",
            help="On SIGTERM, wait this many seconds for the running job before abandoning it.",
        ),
    ] = 60.0,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info, warning or error.")
    ] = "info",
    http: Annotated[
        str | None,
        typer.Option(
            "--http",
            envvar="DIGEST_HTTP",
            help="Serve the archive site (DATA_DIR/site) and the one-click /unsubscribe (with "
            "DIGEST_UNSUBSCRIBE_SECRET) on HOST:PORT, e.g. 127.0.0.1:8080.",
        ),
    ] = None,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="On PostgreSQL, fetch, build and send in this process instead of enqueueing "
            "jobs for `digest worker` (SQLite always works in-process).",
        ),
    ] = False,
) -> None:
    """Run the scheduler: fetch feeds every fetch_every, build and send each digest on time.

    With storage_url on PostgreSQL it enqueues the work, and `digest worker` processes (on
    this machine or others) run it; see docs/several-machines.md.
    """
    settings = load(config, data_dir)
    configure_logging(log_level)
    try:
        site_http = parse_address(http) if http else None
    except ValueError as exc:
        fail(f"--http: {exc}")
    try:
        with run_lock(settings, role=SERVICE_ROLE):  # so `digest run` hands its run over
            store = store_for(settings)
            queue = None
            if is_postgres(settings) and not in_process:
                queue = service.JobQueue(settings, store)
            try:
                code = service.serve_forever(
                    settings,
                    store,
                    load=lambda: load_settings(config, data_dir=data_dir),
                    health_host=health_host,
                    health_port=health_port,
                    stop_timeout=stop_timeout,
                    site_http=site_http,
                    stages=service.queued_stages(queue) if queue else None,
                )
            finally:
                if queue is not None:
                    queue.close()
    except LockError as exc:
        fail(f"{exc} (another digest serve or digest run is using this database)", EXIT_FAILED)
    except ConfigError as exc:  # --http or --health-port: the port is taken or not ours
        fail(str(exc))
    raise typer.Exit(code)


@app.command("worker")
def worker_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Jobs this process runs at once.")
    ] = 1,
    name: Annotated[
        str | None, typer.Option("--name", help="How the worker is named (default HOST:PID).")
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Exit when the queue is empty instead of waiting.")
    ] = False,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info, warning or error.")
    ] = "info",
) -> None:
    """Run the jobs `digest serve` enqueues: fetch feeds, build periods, deliver mail.

    Needs storage_url on PostgreSQL (the queue lives there); start as many as you like, on
    any machine that reaches the database, with the same configuration. One process uses
    one core: start one per core. SIGTERM lets the running job finish.
    """
    settings = load(config, data_dir)
    configure_logging(log_level)
    if not is_postgres(settings):
        fail(
            "digest worker needs storage_url on PostgreSQL (the job queue lives there); "
            "with SQLite, `digest serve` does all the work itself"
        )
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    service.run_worker(settings, concurrency=concurrency, name=name, once=once)


@app.command("migrate")
def migrate_command(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Bring the database to this version's schema, after a backup copy (after an upgrade)."""
    settings = load(config, data_dir)
    try:
        # Every command migrates as it opens the database; this one does it on purpose,
        # with the service stopped (the lock) and a copy of an SQLite file to roll back to.
        with run_lock(settings):
            try:
                store = open_store(settings.storage_url, upgrade=False)
            except StoreError as exc:
                fail(str(exc))
            before = schema_of(store)
            if before == len(MIGRATIONS):
                _say(f"database schema {before}: up to date for digest {__version__}")
                return
            if settings.storage_url.startswith("sqlite:///") and before:
                path = Path(settings.storage_url.removeprefix("sqlite:///"))
                copy = path.with_name(f"{path.name}.schema-{before}.bak")
                backup(store, copy)
                _say(f"copied the database (schema {before}) to {copy}")
            after = migrate(store)
    except LockError as exc:
        fail(f"{exc} (stop `digest serve` and any `digest run` before migrating)", EXIT_FAILED)
    _say(f"database schema {before} -> {after}: ready for digest {__version__}")


def configure_logging(level: str) -> None:
    """Send structured log lines (ts=... level=... event=...) to stderr at the given level."""
    value = logging.getLevelName(level.upper())
    if not isinstance(value, int):
        fail(f"--log-level: {level!r} is not one of debug, info, warning, error")
    logging.basicConfig(
        stream=sys.stderr,
        level=value,
        format=LOG_FORMAT,
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        force=True,
    )
    # Our own event lines say what each job did; these libraries' INFO lines would repeat it.
    for noisy in ("apscheduler", "httpx", "httpcore", "trafilatura"):
        logging.getLogger(noisy).setLevel(max(value, logging.WARNING))


@app.command("status")
def status_command(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Show the service, each digest's next and last run, feed health and undelivered mail."""
    settings = load(config, data_dir)
    store = store_for(settings, reading=True)
    now = wall_clock()
    _print_service(settings)
    _print_queue(store)
    for d in settings.digests:
        _print_digest(d, store, now)
        _print_llm(store.last_llm_run(d.name))
    _print_feeds(settings, store.feed_states())
    _print_undelivered(store)
    _print_opt_outs(store)
    _print_suspended(store)


def _print_service(settings: Settings) -> None:
    where = "advisory lock" if is_postgres(settings) else str(lock_path(settings))
    try:
        holder = lock_holder(settings)
        state = f"running ({holder})" if holder else "not running"
    except LockError as exc:
        state = f"unknown ({exc})"
    _say(f"service: {state}; lock: {where}")
    _say(f"database: {_safe_url(settings.storage_url)}")


def _print_queue(store: Store) -> None:
    """Say how many jobs wait, by state, and how many `digest worker` processes are alive."""
    stats = job_queue.stats(store)
    if stats is None:
        return
    states = ", ".join(f"{state} {n}" for state, n in stats.by_state if n)
    _say(
        f"job queue: {stats.depth} waiting; jobs: {states or 'none'}; "
        f"workers seen in the last minute: {stats.workers}"
    )


def _print_digest(d: DigestSettings, store: Store, now: datetime) -> None:
    grace = _duration(d.catch_up_grace)
    _say(
        f"\ndigest {d.name} ({d.title}): {d.schedule!r} in {d.timezone}; "
        f"catch_up={d.catch_up} within {grace}"
    )
    upcoming = next_slot(d, now)
    if upcoming is not None:
        local = upcoming.astimezone(ZoneInfo(d.timezone))
        _say(f"  next run: {local:%Y-%m-%d %H:%M %Z} (in {_duration(upcoming - now)})")
    runs = store.recent_runs(d.name, limit=1)
    if not runs:
        _say("  last run: none yet")
        return
    run = runs[0]
    when = run.finished_at or run.started_at
    report = run.report
    if report is None:  # started and not finished: running now, or the process died
        _say(f"  last run: {run.period_key} {run.status} at {when:%Y-%m-%d %H:%M} UTC")
        return
    c = report.counts
    _say(
        f"  last run: {run.period_key} {run.status} at {when:%Y-%m-%d %H:%M} UTC: "
        f"{plural(c.events, 'event')} from {plural(c.articles, 'article')}, "
        f"{plural(len(report.failures), 'failure')}"
    )
    _say(f"    mail: {_period_mail(store, run.id, report)}")
    if report.timings:
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings)
        _say(f"    timings: {timings}")
    for failure in report.failures[:10]:
        _say(f"    failed: {failure}")


def _period_mail(store: Store, run_id: int, report: RunReport) -> str:
    """Return what a period's mail came to across all its runs (from the ledger, not from the
    last run's report, which a re-run rewrites)."""
    rows = ledger.for_run(store, run_id)
    if not rows and report.delivery == "empty":
        return "none: no new stories in this period (send_empty = false)"
    if not rows and report.delivery == "broken":
        return "the delivery step failed; the period is built again"
    done = sum(1 for r in rows if r.status in ledger.DONE)
    by_status: dict[str, int] = {}
    for r in rows:
        if r.status not in ledger.DONE:
            shown = "unknown" if r.status == "sending" else r.status
            by_status[shown] = by_status.get(shown, 0) + 1
    rest = "".join(f", {n} {status}" for status, n in sorted(by_status.items()))
    return f"delivered to {done} of {plural(len(rows), 'recipient')}{rest}"


def _print_llm(run: LlmRun | None) -> None:
    """Say what the language model did in the digest's latest run, sent or only built."""
    if run is None:
        return
    counts = dict(run.counts)
    total = llm_events(counts)
    fell_back = llm_fallbacks(counts)
    kept = total - sum(fell_back.values())
    line = f"  llm: last {run.kind} {run.period_key} at {run.at:%Y-%m-%d %H:%M} UTC: "
    if not total:
        _say(line + "no events")
        return
    line += f"{kept} of {total} events summarised by the model"
    details = [f"{counts[k]} {what}" for k, what in _LLM_DETAILS if counts.get(k)]
    line += f" ({', '.join(details)})" if details else ""
    if fell_back:
        why = ", ".join(f"{reason} {n}" for reason, n in fell_back.items())
        line += f"; {sum(fell_back.values())} extractive: {why}"
    _say(line)


_LLM_DETAILS = (("llm_retried_then_kept", "after a retry"), ("llm_cached", "from the cache"))


def _print_feeds(settings: Settings, states: tuple[FeedState, ...]) -> None:
    known = {s.url: s for s in states}
    configured = [f.url for f in settings.all_feeds]
    never = [u for u in configured if u not in known]
    failing = [s for s in states if s.error_count and not s.disabled]
    disabled = [s for s in states if s.disabled]
    ok = len(states) - len(failing) - len(disabled)
    _say(
        f"\nfeeds: {ok} ok, {len(failing)} failing, {len(disabled)} disabled, "
        f"{len(never)} never fetched"
    )
    for s in failing + disabled:
        last_ok = f"{s.last_success_at:%Y-%m-%d %H:%M}" if s.last_success_at else "never"
        mark = "disabled" if s.disabled else plural(s.error_count, "error")
        _say(f"  {s.url}: {mark}, last ok {last_ok}: {s.last_error or '?'}")


def _print_undelivered(store: Store) -> None:
    rows = ledger.listing(store, statuses=UNDELIVERED, limit=50)
    _say(f"\nundelivered messages: {ledger.undelivered(store)}")
    for row in rows:
        d = row.to_delivery()
        nxt = f", next try {row.next_attempt_at:%H:%M} UTC" if row.next_attempt_at else ""
        _say(
            f"  #{row.id} {row.digest} {row.period_key} -> {row.recipient}: {row.status} "
            f"after {row.attempts} attempts{nxt}: {d.error or ''}"
        )


def _print_opt_outs(store: Store) -> None:
    opt_outs = store.opt_outs()
    _say(f"\nunsubscribed: {len(opt_outs)}")
    for o in opt_outs:
        scope = "every digest" if o.digest == ALL_DIGESTS else f"digest {o.digest}"
        _say(f"  {o.address} from {scope} ({o.how}, {o.at:%Y-%m-%d %H:%M} UTC)")


def _print_suspended(store: Store) -> None:
    suspended = store.suspensions()
    _say(f"\nsuspended after permanent failures: {len(suspended)}")
    for b in suspended:
        since = f"{b.suspended_at:%Y-%m-%d %H:%M} UTC" if b.suspended_at else "?"
        _say(
            f"  {b.address} since {since}, {b.failures} failures in a row (last: "
            f"{b.last_error}); `digest subscribers resume {b.address}` sends to it again"
        )


def _say(text: str) -> None:
    console.print(text, markup=False)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = f"{days}d" if days else ""
    text += f"{hours}h" if hours else ""
    return text + (f"{mins:02d}m" if text and mins else f"{mins}m" if not text else "")
