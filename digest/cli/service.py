"""`digest serve` (the background service) and `digest status` (what it did and will do).

Exit codes of `digest serve`: 0 after SIGTERM/SIGINT (the running job finished or was
abandoned cleanly), 1 when another `digest serve` or `digest run` holds the database's lock
(the message names the holder), 2 for a configuration or database error.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.engine import make_url

from digest import service
from digest.cli.common import (
    EXIT_FAILED,
    ConfigOption,
    DataDirOption,
    console,
    fail,
    load,
    store_for,
)
from digest.cli.reports import llm_events, llm_fallbacks
from digest.config import DigestSettings, Settings, load_settings
from digest.deliver import ledger
from digest.errors import ConfigError, LockError
from digest.models import FeedState, LlmRun, wall_clock
from digest.service import next_slot, parse_address
from digest.store import (
    ALL_DIGESTS,
    SERVICE_ROLE,
    Store,
    is_postgres,
    lock_holder,
    lock_path,
    run_lock,
)

app = typer.Typer()

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
) -> None:
    """Run the scheduler: fetch feeds every fetch_every, build and send each digest on time."""
    settings = load(config, data_dir)
    configure_logging(log_level)
    try:
        site_http = parse_address(http) if http else None
    except ValueError as exc:
        fail(f"--http: {exc}")
    try:
        with run_lock(settings, role=SERVICE_ROLE):  # so `digest run` hands its run over
            store = store_for(settings)
            code = service.serve_forever(
                settings,
                store,
                load=lambda: load_settings(config, data_dir=data_dir),
                health_host=health_host,
                health_port=health_port,
                stop_timeout=stop_timeout,
                site_http=site_http,
            )
    except LockError as exc:
        fail(f"{exc} (another digest serve or digest run is using this database)", EXIT_FAILED)
    except ConfigError as exc:  # --http or --health-port: the port is taken or not ours
        fail(str(exc))
    raise typer.Exit(code)


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
    store = store_for(settings)
    now = wall_clock()
    _print_service(settings)
    for d in settings.digests:
        _print_digest(d, store, now)
        _print_llm(store.last_llm_run(d.name))
    _print_feeds(settings, store.feed_states())
    _print_undelivered(store)
    _print_opt_outs(store)


def _print_service(settings: Settings) -> None:
    where = "advisory lock" if is_postgres(settings) else str(lock_path(settings))
    try:
        holder = lock_holder(settings)
        state = f"running ({holder})" if holder else "not running"
    except LockError as exc:
        state = f"unknown ({exc})"
    _say(f"service: {state}; lock: {where}")
    _say(f"database: {_safe_url(settings.storage_url)}")


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
    report: dict[str, Any] = json.loads(run.report or "{}")
    counts = report.get("counts", {})
    when = run.finished_at or run.started_at
    _say(
        f"  last run: {run.period_key} {run.status} at {when:%Y-%m-%d %H:%M} UTC: "
        f"{counts.get('events', 0)} events from {counts.get('articles', 0)} articles, "
        f"{counts.get('delivered', 0)} delivered, {len(report.get('failures', []))} failures"
    )
    if report.get("timings"):
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in report["timings"].items())
        _say(f"    timings: {timings}")
    for failure in report.get("failures", [])[:10]:
        _say(f"    failed: {failure}")


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
        mark = "disabled" if s.disabled else f"{s.error_count} errors"
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
