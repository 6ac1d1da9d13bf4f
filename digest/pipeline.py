"""The one place the stages are wired: fetch -> store -> events -> summarize -> compose -> render
-> deliver. Here one bad digest, event or mail setup becomes a recorded Failure (logged
with its traceback, `Failure.unexpected`) and the run goes on; the few other broad catches
(one feed in a fetch pass, one recipient's message, one scheduled job) say why beside them.
A StoreError is let through: a damaged or unreachable database is no one item's failure, and
the command stops with `error: store: ...` (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from digest import deliver, events, fetch, render
from digest.config import DigestSettings, Settings, period_key, union_feeds
from digest.errors import StoreError
from digest.models import (
    Clock,
    Digest,
    Event,
    EventExplanation,
    EventSummary,
    Failure,
    FeedSource,
    IngestReport,
    LlmRun,
    Progress,
    RunCounts,
    RunReport,
    wall_clock,
)
from digest.report import StageTimer
from digest.store import Store

PAST_EVENTS_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class Deps:
    """The I/O a run uses, injected so tests can point it at loopback servers."""

    client: httpx.AsyncClient | None = None
    connect: deliver.Connect | None = None
    summarizer: events.Summarizer | None = None
    llm_client: httpx.Client | None = None  # for summarizer = "llm"; a new one when None
    fetch_image: Callable[[str], bytes | None] | None = None
    progress: Progress = field(default=lambda _msg: None)
    # The wall clock, for what really happens now (mail Date, ledger times, retry deadlines);
    # a run's `now` may be a past period's time (catch-up, --as-of).
    clock: Clock = wall_clock
    # Shown each digest once composed, before it is rendered: `digest eval reader` audits
    # what a subscriber reads from the very digest a run builds.
    on_digest: Callable[[Digest], None] = field(default=lambda _digest: None)
    # Hands a run's due ledger rows to `digest worker` jobs instead of sending them in this
    # process (deliver.Dispatch); None sends here.
    dispatch: Callable[[int, Sequence[int]], None] | None = None

    @property
    def mail(self) -> deliver.MailIO:
        """Return the I/O of the run's mail."""
        return deliver.MailIO(self.connect, self.clock, self.dispatch)


@dataclass(frozen=True)
class RunOptions:
    """How one run behaves: what to fetch, the period, where files go, whether to send."""

    fetch: bool = True
    send: bool = True
    since: timedelta | None = None
    out_dir: Path | None = None
    site_dir: Path | None = None  # the archive site (default DATA_DIR/site)
    explain: bool = False  # record why each event's articles were joined (--explain)


def sources_for(
    settings: Settings, store: Store, digests: Sequence[DigestSettings]
) -> tuple[FeedSource, ...]:
    """Return the feeds of the given digests plus those added with `digest feeds add`, once each."""
    return union_feeds(*(d.feeds for d in digests), store.added_feeds())


def fetch_once(
    settings: Settings,
    store: Store,
    sources: Sequence[FeedSource],
    now: datetime,
    deps: Deps,
    *,
    force: bool = False,
) -> IngestReport:
    """Return the report of one fetch pass over the sources (nothing raised for a bad feed)."""
    return fetch.fetch_pass(
        settings, store, sources, now, client=deps.client, progress=deps.progress, force=force
    )


def run_once(
    settings: Settings,
    digest_settings: DigestSettings,
    store: Store,
    now: datetime,
    deps: Deps | None = None,
    options: RunOptions | None = None,
    ingest_report: IngestReport | None = None,
) -> RunReport:
    """Return the report of one digest run: fetch (unless given a report), build, write, send.

    Whatever goes wrong inside becomes a Failure of this digest's report, so the next digest
    of a `digest run` (or the service's next job) still runs.
    """
    try:
        return _run_once(settings, digest_settings, store, now, deps, options, ingest_report)
    except StoreError:
        raise  # a broken database is every digest's failure: the caller stops (exit 2)
    except Exception as exc:  # one digest's bug must not stop the others of this run
        failure = Failure.unexpected("run", digest_settings.name, exc)
        return RunReport(
            digest=digest_settings.name,
            period_key=period_key(digest_settings, now),
            failures=(failure,),
        )


def _run_once(
    settings: Settings,
    digest_settings: DigestSettings,
    store: Store,
    now: datetime,
    deps: Deps | None = None,
    options: RunOptions | None = None,
    ingest_report: IngestReport | None = None,
) -> RunReport:
    """Return the report of one digest run: fetch (unless given a report), build, write, send."""
    run = _Run(settings, digest_settings, store, now, deps or Deps(), options or RunOptions())
    d, deps, options = run.d, run.deps, run.options
    digest, summaries, why = _build(run, ingest_report)
    images = deps.fetch_image or (fetch.image_fetcher(settings.fetch) if d.images else None)
    renders = render.Renders(d, digest, images)
    out_dir = options.out_dir or settings.data_dir / "digests"
    site_dir = options.site_dir or settings.data_dir / "site"
    outputs, failed = render.write_period(
        renders, run.key, now, out_dir, site_dir, settings.keep, run.timer
    )
    report = RunReport(
        digest=d.name,
        period_key=run.key,
        counts=run.counts,
        failures=(*run.failures, *failed),
        timings=tuple(run.timer.timings),
        outputs=tuple(outputs),
        explanations=tuple(w for w in why if w.articles > 1),
    )
    if not options.send:
        return report
    if not outputs:  # nothing rendered, nothing to send: the period is built again later
        report = deliver.record_unrendered(store, report, now)
    else:
        shown = [events.past_event_from(s) for s in summaries]
        report = deliver.send_period(
            settings, d, store, report, renders.for_recipient, now, shown, deps.mail, run.timer
        )
    return deliver.report_failures(settings, d, report, deps.clock(), deps.connect)


@dataclass
class _Run:
    """One digest run under way: what it was asked, and what it has counted and failed."""

    settings: Settings
    d: DigestSettings
    store: Store
    now: datetime
    deps: Deps
    options: RunOptions
    timer: StageTimer = field(default_factory=StageTimer)
    failures: list[Failure] = field(default_factory=list)
    counts: RunCounts = field(default_factory=RunCounts)
    key: str = field(init=False)  # the period now falls in: names the issue, files, subject

    def __post_init__(self) -> None:
        self.key = period_key(self.d, self.now)


def _build(
    run: _Run, ingest: IngestReport | None
) -> tuple[Digest, list[EventSummary], tuple[EventExplanation, ...]]:
    """Return the period's digest, its summaries and why each event's articles were joined."""
    d, store, now = run.d, run.store, run.now
    sources = sources_for(run.settings, store, [d])  # once: the fetch may move an added feed
    if ingest is None and run.options.fetch:
        with run.timer.stage("fetch"):
            ingest = fetch_once(run.settings, store, sources, now, run.deps)
    if ingest is not None:
        ingest = ingest.only({f.url for f in sources})
        run.failures += [*ingest.failures, *ingest.disabled()]
        run.counts = ingest.counts()
    start = now - (run.options.since or d.window)
    with run.timer.stage("events"):
        stored = store.articles_between(start, now, [f.url for f in sources], period=True)
        # Everything shown before now counts, except by this very period (a re-run): a
        # window start would drop yesterday's events whenever today's run starts earlier.
        past = store.past_events(d.name, now - PAST_EVENTS_LOOKBACK, now, except_period=run.key)
        found, why, ruled = events.period_events(
            stored, d, sources, now=now, past=past, explain=run.options.explain
        )
    run.failures += [Failure("rules", rule, reason) for rule, reason in ruled.gave_up]
    run.counts = replace(
        run.counts,
        articles=len(ruled.kept),
        filtered=ruled.removed_total,
        removed=ruled.removed,
        events_found=len(found),
    )
    with run.timer.stage("summarize"):
        summaries = _summarize(run, found[: d.max_events])
    health = ingest.health if ingest else ()
    period = deliver.period_time(run.key)
    digest = render.compose_digest(
        d, summaries, period_start=start, period_end=now, now=now, health=health, period=period
    )
    run.counts = replace(run.counts, events=len(digest.events))
    run.deps.on_digest(digest)
    return digest, summaries, why


def _summarize(run: _Run, found: Sequence[Event]) -> list[EventSummary]:
    """Return the events' summaries; a model's counts go to the report and `digest status`."""
    deps, d = run.deps, run.d
    summarizer = deps.summarizer or events.choose_summarizer(
        run.settings.llm, d, run.store, deps.llm_client, render.template_dirs(d)
    )
    summaries, failed, llm_counts = events.summarize_period(
        found,
        summarizer,
        sentences=d.summary_sentences,
        now=run.now,
        close=deps.llm_client is None,  # a client made for this run
    )
    run.failures += failed
    if llm_counts is not None:
        run.counts = replace(run.counts, summarizer=llm_counts)
        kind = "run" if run.options.send else "run --no-send" if run.options.fetch else "build"
        at = deps.clock()  # kept whether this run sends or only builds
        run.store.record_llm_run(LlmRun(d.name, run.key, at, kind, llm_counts))
    return summaries


def prune_store(settings: Settings, store: Store, now: datetime) -> dict[str, int]:
    """Return what was forgotten of the data older than settings.keep.

    A StoreError is raised, not swallowed: a database that cannot delete rows (damaged, or
    busy past the 30 s busy timeout) is no better for the next run's writes.
    """
    return store.prune(now - settings.keep)


def run_digests(
    settings: Settings,
    store: Store,
    chosen: Sequence[DigestSettings],
    options: RunOptions,
    now: datetime,
    deps: Deps,
) -> tuple[IngestReport | None, list[RunReport]]:
    """Return what `digest run` does: retry due mail, fetch once, build and send each digest.

    The caller holds the run lock (`digest run`), or is the service that holds it (a run
    handed over by `digest run`). A report with digest "" is the retry of earlier periods.
    """
    reports: list[RunReport] = []
    if options.send:
        # Earlier periods' deliveries still due (a 4xx, a server that was down): cron-only
        # setups have no service to retry them, so every run does. The periods built now
        # send their own due messages, so that their report tells what this run did.
        building = {(d.name, period_key(d, now)) for d in chosen}
        retried, failures = deliver.retry_deliveries(
            settings, store, deps.clock(), deps.connect, skip=building
        )
        if retried or failures:
            reports.append(
                RunReport(digest="", period_key="", failures=failures, deliveries=retried)
            )
    ingest: IngestReport | None = None
    if options.fetch:
        ingest = fetch_once(settings, store, sources_for(settings, store, chosen), now, deps)
    for d in chosen:
        deps.progress(f"building {d.name}")
        reports.append(run_once(settings, d, store, now, deps, options, ingest_report=ingest))
    if options.fetch:
        prune_store(settings, store, now)
    return ingest, reports
