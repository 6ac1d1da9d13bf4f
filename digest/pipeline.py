"""The one place the stages are wired: fetch -> store -> events -> summarize -> compose -> render
-> deliver. Here one bad digest, event or mail setup becomes a recorded Failure (logged
with its traceback, `Failure.unexpected`) and the run goes on; the few other broad catches
(one feed in a fetch pass, one recipient's message, one scheduled job) say why beside them.
A StoreError is let through: a damaged or unreachable database is no one item's failure, and
the command stops with `error: store: ...` (exit 2).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from digest import deliver, events, fetch, render
from digest.config import DigestSettings, Recipient, Settings, period_key, union_feeds
from digest.errors import DigestError, StoreError
from digest.models import (
    Article,
    Clock,
    Delivery,
    DeliveryOutcome,
    Digest,
    Event,
    EventSummary,
    Failure,
    FeedHealth,
    FeedSource,
    IngestReport,
    LlmRun,
    Progress,
    Rendered,
    RunCounts,
    RunReport,
    wall_clock,
)
from digest.store import Bounces, Store

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


@dataclass(frozen=True)
class RunOptions:
    """How one run behaves: what to fetch, the period, where files go, whether to send."""

    fetch: bool = True
    send: bool = True
    since: timedelta | None = None
    out_dir: Path | None = None
    site_dir: Path | None = None  # the archive site (default DATA_DIR/site)
    explain: bool = False  # record why each event's articles were joined (--explain)


class _Timer:
    """Collects (stage, seconds) pairs."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings.append((name, round(time.perf_counter() - start, 3)))


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
    deps.progress(f"fetching {len(sources)} feeds")
    try:
        return fetch.fetch_and_store(
            settings,
            store,
            sources,
            now,
            client=deps.client,
            on_progress=deps.progress,
            force=force,
        )
    except StoreError:
        raise  # the database, not a feed: nothing later in the run can work (exit 2)
    except DigestError as exc:
        return IngestReport(failures=(Failure("fetch", "feeds", str(exc)),))


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
    deps = deps or Deps()
    options = options or RunOptions()
    timer = _Timer()
    failures: list[Failure] = []
    counts = RunCounts()
    d = digest_settings
    if ingest_report is None and options.fetch:
        with timer.stage("fetch"):
            ingest_report = fetch_once(
                settings, store, sources_for(settings, store, [d]), now, deps
            )
    sources = sources_for(settings, store, [d])
    feed_urls = [f.url for f in sources]
    if ingest_report is not None:
        ingest_report = _only_feeds(ingest_report, feed_urls)
        failures.extend(ingest_report.failures)
        failures.extend(_disabled(ingest_report))
        counts = replace(
            counts,
            feeds=len(ingest_report.health),
            feeds_failed=len(failed_feeds(ingest_report)),
            feeds_waiting=len(waiting_feeds(ingest_report)),
            entries=ingest_report.entries,
            new_articles=ingest_report.new_articles,
        )
    start = now - (options.since or d.window)
    key = period_key(d, now)  # the period now falls in names the issue, its files and subject
    with timer.stage("events"):
        period_articles = store.articles_between(start, now, feed_urls, period=True)
        articles = _as_configured(period_articles, sources)
        ruled = events.apply_rules(articles, include=d.include, exclude=d.exclude, feeds=sources)
        articles = list(ruled.kept)
        failures.extend(Failure("rules", rule, why) for rule, why in ruled.gave_up)
        # Everything shown before now counts, except by this very period (a re-run): a
        # window start would drop yesterday's events whenever today's run starts earlier.
        past = store.past_events(d.name, now - PAST_EVENTS_LOOKBACK, now, except_period=key)
        found, why = events.find_events_explained(
            articles, now=now, past=past, tag_weights=dict(d.tag_weights), explain=options.explain
        )
        found, why = events.news_first(found, why, d.not_news)
    counts = replace(
        counts,
        articles=len(articles),
        filtered=ruled.removed_total,
        removed=ruled.removed,
        events_found=len(found),
    )
    with timer.stage("summarize"):
        summarizer = deps.summarizer or _summarizer(settings, d, store, deps)
        try:
            summaries = _summarize(found[: d.max_events], d, now, summarizer, failures)
        finally:
            if isinstance(summarizer, events.LlmSummarizer) and deps.llm_client is None:
                summarizer.client.close()  # made for this run by _summarizer
    if isinstance(summarizer, events.LlmSummarizer):
        counts = replace(counts, summarizer=tuple(sorted(summarizer.counts.items())))
        _record_llm(store, d.name, key, deps.clock(), options, summarizer.counts)
    health = ingest_report.health if ingest_report else ()
    digest = render.compose_digest(
        d,
        summaries,
        period_start=start,
        period_end=now,
        now=now,
        health=health,
        period=deliver.period_time(key),
    )
    counts = replace(counts, events=len(digest.events))
    deps.on_digest(digest)
    if d.images and deps.fetch_image is None:
        deps = replace(deps, fetch_image=image_fetcher(settings))
    renders = _Renders(d, digest, deps)
    outputs: list[str] = []
    with timer.stage("render"):
        try:
            outputs = _write_outputs(renders.get(d.language, d.formats), d, key, options, settings)
        except (DigestError, OSError) as exc:  # OSError: --out unwritable or full
            failures.append(Failure("render", d.name, str(exc)))
    if outputs:  # a digest that could not be rendered has nothing to publish
        with timer.stage("site"):
            rendered = renders.get(d.language, d.formats)  # cached: rendered above
            outputs += _publish(rendered, digest, d, key, now, options, settings, failures)
    report = RunReport(
        digest=d.name,
        period_key=key,
        counts=counts,
        failures=tuple(failures),
        timings=tuple(timer.timings),
        outputs=tuple(outputs),
        explanations=tuple(w for w in why if w.articles > 1),
    )
    if not options.send:
        return report
    if not outputs:
        return _report_failures(settings, d, _record_unrendered(store, report, now), deps)
    run = store.claim_run(d.name, key, now)
    store.record_events(run.id, d.name, now, [events.past_event_from(s) for s in summaries])
    if not digest.events and not d.send_empty:
        skipped = replace(report, delivery="empty", notes=(NO_MAIL_EMPTY,))
        store.finish_run(run.id, skipped, now)
        return _report_failures(settings, d, skipped, deps)
    with timer.stage("deliver"):
        deliveries, outcome, failed = _deliver(settings, d, store, run.id, renders, now, deps)
    final = replace(
        report,
        failures=(*report.failures, *failed),
        timings=tuple(timer.timings),
        deliveries=deliveries,
        delivery=outcome,
        notes=_not_sent(store, d),
    )
    store.finish_run(run.id, final, now)
    return _report_failures(settings, d, final, deps)


NO_MAIL_EMPTY = "no mail: no new stories in this period (send_empty = false)"


def _record_unrendered(store: Store, report: RunReport, now: datetime) -> RunReport:
    """Record a period that could not be rendered (a full disk) as a failed run; return it.

    It was left without a run row, so `digest status` showed nothing. A period finished
    before keeps its row; a new one is failed with the error and stays unsettled, so the
    next run (or the service's next start) builds it again.
    """
    run = store.claim_run(report.digest, report.period_key, now)
    if run.finished_at is None:
        store.finish_run(run.id, report, now)
    return report


def _record_llm(
    store: Store, digest: str, key: str, at: datetime, options: RunOptions, counts: Counter[str]
) -> None:
    """Keep what the model did for `digest status`, whether this run sends or only builds."""
    kind = "run" if options.send else "run --no-send" if options.fetch else "build"
    store.record_llm_run(LlmRun(digest, key, at, kind, tuple(sorted(counts.items()))))


def _not_sent(store: Store, d: DigestSettings) -> tuple[str, ...]:
    """Return a note per recipient left out: unsubscribed, or suspended after bounces."""
    kept = {deliver.address_key(r.address) for r in deliver.active_recipients(store, d)}
    suspended = {b.address: b for b in store.suspensions()}
    notes = []
    for r in d.recipients:
        if deliver.address_key(r.address) in kept:
            continue
        held = suspended.get(r.address.strip().casefold())
        notes.append(f"not sent to {r.address}: " + (_suspended(held) if held else "unsubscribed"))
    return tuple(dict.fromkeys(notes))


def _suspended(b: Bounces) -> str:
    """Return why an address gets no mail: suspended after its permanent failures."""
    since = f"{b.suspended_at:%Y-%m-%d %H:%M} UTC" if b.suspended_at else "?"
    return (
        f"suspended since {since} after {b.failures} permanent failures in a row "
        f"(last: {b.last_error}); `digest subscribers resume {b.address}` sends to it again"
    )


def _report_failures(
    settings: Settings, d: DigestSettings, report: RunReport, deps: Deps
) -> RunReport:
    """Mail the run's failures, named, to d.report_to; return the report (plus a failure)."""
    if not d.report_to or not report.failures:
        return report
    lines = [str(f) for f in report.failures]
    try:
        where = deliver.send_report(
            settings, d, report.period_key, lines, deps.clock(), connect=deps.connect
        )
    except (DigestError, OSError) as exc:
        failure = Failure("report", d.report_to, str(exc))
        return replace(report, failures=(*report.failures, failure))
    return replace(report, notes=(*report.notes, f"failures reported to {where}"))


def failed_feeds(report: IngestReport) -> tuple[FeedHealth, ...]:
    """Return the feeds whose fetch failed in this pass."""
    failed = {f.subject for f in report.failures}
    return tuple(h for h in report.health if not h.ok and h.url in failed)


def waiting_feeds(report: IngestReport) -> tuple[FeedHealth, ...]:
    """Return the unhealthy feeds this pass did not try: backing off after earlier errors.

    They failed in an earlier pass (and were reported then), so they are no failure of this
    one; they are named apart from the failures, and subscribers count them as unreachable.
    """
    failed = {f.subject for f in report.failures}
    return tuple(h for h in report.health if not h.ok and h.url not in failed)


def _disabled(report: IngestReport) -> list[Failure]:
    """Return a failure per feed of the digest that is disabled (and so was not tried).

    A feed backing off heals by itself and is no failure of a run that did not try it; a
    disabled one never does, while every issue tells its readers a source is missing. So
    each digest run names it until it is fixed and enabled (or removed).
    """
    return [
        Failure(
            "fetch",
            h.url,
            f"disabled after {h.error_count} failed fetch{'es' if h.error_count != 1 else ''} in "
            f"a row (last: {h.error or '?'}); "
            f"`digest feeds enable {h.url}` fetches it again",
        )
        for h in waiting_feeds(report)
        if h.disabled
    ]


def _as_configured(articles: Sequence[Article], sources: Sequence[FeedSource]) -> list[Article]:
    """Return articles with this digest's tags, weight and name for their feed.

    A feed listed by two digests (say with English tags in one and Russian in the other) is
    stored once; its sections and weight belong to each digest's own feed list.
    """
    by_url = {s.url: s for s in sources}
    out = []
    for a in articles:
        source = by_url.get(a.feed_url)
        if source is None:
            out.append(a)
        else:
            out.append(
                replace(a, tags=source.tags, weight=source.weight, source=source.name or a.source)
            )
    return out


MAX_IMAGE_BYTES = 5 * 1024 * 1024


def image_fetcher(settings: Settings) -> Callable[[str], bytes | None]:
    """Return a function fetching a lead image under the fetch rules; None when it fails."""
    # Images go through the page fetcher: size cap, robots.txt and the private-address block
    # apply to them as to article pages.
    rules = replace(settings.fetch, max_bytes=min(settings.fetch.max_bytes, MAX_IMAGE_BYTES))

    def fetch_image(url: str) -> bytes | None:
        result = fetch.fetch_page(url, rules)
        if result.status != 200 or not (result.content_type or "").startswith("image/"):
            return None
        return result.body

    return fetch_image


def _only_feeds(report: IngestReport, feed_urls: Sequence[str]) -> IngestReport:
    """Return the part of a shared fetch report that concerns one digest's feeds."""
    urls = set(feed_urls)
    return replace(
        report,
        health=tuple(h for h in report.health if h.url in urls),
        failures=tuple(f for f in report.failures if f.subject in urls or f.subject == "feeds"),
    )


def _summarizer(
    settings: Settings, d: DigestSettings, store: Store, deps: Deps
) -> events.Summarizer:
    """Return the digest's summarizer: extractive, or a model behind the fact guard."""
    if d.summarizer != "llm" or settings.llm is None:
        return events.default_summarizer()
    return events.LlmSummarizer(
        settings.llm,
        deps.llm_client or httpx.Client(),
        store,
        render.template_dirs(d),
        d.language,
    )


def _summarize(
    found: Sequence[Event],
    d: DigestSettings,
    now: datetime,
    summarizer: events.Summarizer,
    failures: list[Failure],
) -> list[EventSummary]:
    def one(event: Event) -> EventSummary | Failure:
        try:
            return summarizer.summarize(event, sentences=d.summary_sentences, now=now)
        except StoreError:
            raise  # the LLM summarizer's cache is in the database: not one event's failure
        except Exception as exc:  # one bad event must not sink the digest
            subject = event.articles[0].url if event.articles else event.key
            return Failure.unexpected("summarize", subject, exc)

    # A model endpoint answers several events at once; the extractive summary is CPU-bound.
    workers = 1
    if isinstance(summarizer, events.LlmSummarizer):
        workers = summarizer.settings.concurrency
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, found))
    failures.extend(r for r in results if isinstance(r, Failure))
    return [r for r in results if isinstance(r, EventSummary)]


class _Renders:
    """Renders a digest once per (language, formats) that recipients ask for."""

    def __init__(self, settings: DigestSettings, digest: Digest, deps: Deps) -> None:
        self.settings, self.digest, self.deps = settings, digest, deps
        self.cache: dict[tuple[str, tuple[str, ...]], Rendered] = {}
        # An EPUB (or PDF) one recipient asks for is rendered even when the digest's own
        # formats leave it out; who gets what is decided per message.
        wanted = [settings.formats, *(r.formats for r in settings.recipients)]
        self.formats = tuple(dict.fromkeys(f for fs in wanted for f in fs))

    def get(self, language: str, formats: Sequence[str], *, pdf: bool = True) -> Rendered:
        formats = tuple(dict.fromkeys((*self.formats, *formats)))
        if not pdf:  # the body then says nothing of an attached PDF
            formats = tuple(f for f in formats if f != "pdf")
        key = (language, formats)
        if key not in self.cache:
            self.cache[key] = render.render_digest(
                self.digest,
                self.settings,
                language=language,
                formats=formats,
                fetch_image=self.deps.fetch_image,
            )
        return self.cache[key]

    def for_recipient(self, recipient: Recipient) -> tuple[Rendered, Sequence[str]]:
        language = recipient.language or self.settings.language
        # Rendered without a PDF for a recipient who gets none: its email and text part
        # must not say "the full digest is attached as a PDF".
        wants_pdf = "pdf" in recipient.formats
        return self.get(language, self.settings.formats, pdf=wants_pdf), recipient.formats


def _write_outputs(
    rendered: Rendered, d: DigestSettings, key: str, options: RunOptions, settings: Settings
) -> list[str]:
    out_dir = options.out_dir or settings.data_dir / "digests"
    stem = deliver.issue_stem(d, key)  # the period's name, like the attachment's
    files: list[tuple[str, bytes]] = []
    if rendered.pdf is not None:
        files.append((f"{stem}.pdf", rendered.pdf))
    if rendered.epub is not None:
        files.append((f"{stem}.epub", rendered.epub))
    if rendered.ics is not None and "ics" in d.formats:
        files.append((f"{stem}.ics", rendered.ics))
    files.append((f"{stem}.txt", rendered.text.encode("utf-8")))
    files.append((f"{stem}.html", rendered.html.encode("utf-8")))
    # All or none, the page last (a full disk left half of them and *.tmp files).
    written = render.write_together(out_dir, files)
    return [str(p) for p in sorted(written, key=lambda p: _OUTPUT_ORDER.index(p.suffix))]


# The order the written files are reported in (and always were): the page first.
_OUTPUT_ORDER = (".html", ".txt", ".pdf", ".epub", ".ics")


def _publish(
    rendered: Rendered,
    digest: Digest,
    d: DigestSettings,
    key: str,
    now: datetime,
    options: RunOptions,
    settings: Settings,
    failures: list[Failure],
) -> list[str]:
    """Return the archive page written for this period (nothing when publishing failed)."""
    site_dir = options.site_dir or settings.data_dir / "site"
    try:
        written = render.publish_site(
            site_dir, digest, rendered, d, period_key=key, keep=settings.keep, now=now
        )
    except (DigestError, OSError) as exc:  # a full disk or a bad template: the mail still goes
        failures.append(Failure("site", str(site_dir), str(exc)))
        return []
    return [str(p) for p in written if p.suffix == ".html" and p.name != "index.html"]


def _deliver(
    settings: Settings,
    d: DigestSettings,
    store: Store,
    run_id: int,
    renders: _Renders,
    now: datetime,
    deps: Deps,
) -> tuple[tuple[Delivery, ...], DeliveryOutcome, list[Failure]]:
    """Return each recipient's delivery, the digest's delivery outcome and this run's failures."""
    try:
        deliveries = deliver.deliver_digest(
            store,
            settings,
            d,
            run_id,
            renders.for_recipient,
            now,
            connect=deps.connect,
            clock=deps.clock,
            dispatch=deps.dispatch,
        )
    except StoreError:
        raise
    except Exception as exc:  # a broken mail setup is reported, never a crash mid-run
        return (), "broken", [Failure.unexpected("deliver", d.name, exc)]
    outcome: DeliveryOutcome = "complete" if all(x.done for x in deliveries) else "incomplete"
    failures = delivery_failures(settings, deliveries)
    # Recipients were not suspended when this delivery began (they would have been left
    # out): one suspended now was suspended by this run's failure, which says so.
    suspended = {b.address: b for b in store.suspensions()}
    for i, f in enumerate(failures):
        held = suspended.get(f.subject.strip().casefold())
        if held is not None:
            failures[i] = replace(
                f,
                message=f"{f.message}; suspended after {held.failures} permanent failures in a "
                f"row: `digest subscribers resume {held.address}` sends to it again",
            )
    return deliveries, outcome, failures


def delivery_failures(settings: Settings, deliveries: Sequence[Delivery]) -> list[Failure]:
    """Return the failures of this run among a period's deliveries.

    A message an earlier run of the period settled, or left waiting for a retry that is not
    due yet, is no failure of this run: it was not tried (its report line says "already").
    """
    tried = [x for x in deliveries if x.earlier_at is None]
    failures = [
        Failure("deliver", x.recipient, x.error or x.status) for x in tried if x.status == "failed"
    ]
    waiting = [x for x in tried if x.status in ("retry", "pending")]
    if waiting and not any(x.done for x in deliveries) and len(waiting) == len(tried):
        failures.append(_all_waiting(settings, waiting))
    return failures


def _all_waiting(settings: Settings, waiting: Sequence[Delivery]) -> Failure:
    """Return the Failure saying that every message tried waits in retry and none went out."""
    # Typically a setup problem (TLS, port, login) that retrying will not fix: the run must
    # not report success. The period is built (its delivery outcome is "incomplete", not
    # "broken"), so the ledger retries the messages and the period is not built again.
    where = f"{settings.smtp.host}:{settings.smtp.port}" if settings.smtp else "outbox"
    return Failure(
        "deliver",
        where,
        f"all {len(waiting)} messages wait in retry, none delivered: {waiting[0].error} "
        "(check the settings with `digest doctor`)",
    )


def retry_deliveries(
    settings: Settings, store: Store, deps: Deps, skip: Collection[tuple[str, str]] = ()
) -> tuple[tuple[Delivery, ...], tuple[Failure, ...]]:
    """Return the outcomes of sending every due pending/retry delivery of earlier runs.

    Periods in skip, as (digest, period key), are left to the run that builds them now.
    """
    try:
        done = deliver.retry_pending(store, settings, deps.clock(), connect=deps.connect, skip=skip)
    except StoreError:
        raise
    except Exception as exc:  # a broken mail setup must not stop today's digest
        return (), (Failure.unexpected("deliver", "retries", exc),)
    failed = tuple(
        Failure("deliver", x.recipient, x.error or x.status) for x in done if x.status == "failed"
    )
    return done, failed


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
        retried, failures = retry_deliveries(settings, store, deps, skip=building)
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
