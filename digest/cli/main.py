"""The command line: a thin Typer layer over pipeline, service and store.

Exit codes: 0 success, 1 the run finished but something failed (named in the output),
2 usage or configuration error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from digest import __version__
from digest.cli import delivery as cli_delivery
from digest.cli import eval as cli_eval
from digest.cli import feeds as cli_feeds
from digest.cli import service as cli_service
from digest.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    ConfigOption,
    DataDirOption,
    console,
    err_console,
    fail,
    is_terminal,
    load,
    store_for,
)
from digest.config import DigestSettings, Settings, parse_duration
from digest.errors import DigestError, LockError
from digest.models import IngestReport, RunReport
from digest.pipeline import (
    Deps,
    Progress,
    RunOptions,
    fetch_once,
    prune_store,
    retry_deliveries,
    run_once,
    sources_for,
)
from digest.store import Store, run_lock

app = typer.Typer(
    name="digest",
    help="Scheduled news digests: fetch feeds, find the key events, send them as PDF and email.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cli_feeds.app, name="feeds", help="List, add, check and manage feeds.")
app.add_typer(cli_eval.app, name="eval", help="Measure events and summaries on JSONL datasets.")

DigestOption = Annotated[
    list[str] | None,
    typer.Option("--digest", "-d", help="Only this digest (repeatable). Default: all."),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Cover this much time before now (e.g. 24h, 2d) instead of the digest's window.",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Write the PDF, HTML and text here (default: DATA_DIR/digests)."
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Build the digest as it would have been at this ISO time "
        "(e.g. 2018-10-27T07:00:00+00:00; no offset means UTC).",
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")]


def main() -> None:
    """Run the command line."""
    app()


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        console.print(f"digest {__version__}")
        raise typer.Exit(EXIT_OK)


@app.command("run")
def run_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    digest: DigestOption = None,
    since: SinceOption = None,
    out: OutOption = None,
    no_send: Annotated[
        bool,
        typer.Option(
            "--no-send", help="Build and write files; send nothing and record no delivery."
        ),
    ] = False,
    no_fetch: Annotated[bool, typer.Option("--no-fetch", help="Use only stored articles.")] = False,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
) -> None:
    """Fetch feeds, build each digest, write PDF/HTML/text and deliver it (one-off run)."""
    settings = load(config, data_dir)
    chosen = _chosen(settings, digest)
    options = RunOptions(fetch=not no_fetch, send=not no_send, since=_since(since), out_dir=out)
    _run_digests(settings, chosen, options, _now(as_of), quiet)


@app.command("build")
def build_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    digest: DigestOption = None,
    since: SinceOption = None,
    out: OutOption = None,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Print, per event, the terms that tie its articles together and the "
            "similarity of each merge (also kept in the run report).",
        ),
    ] = False,
) -> None:
    """Build and write each digest from stored articles: no fetching, no sending."""
    settings = load(config, data_dir)
    options = RunOptions(fetch=False, send=False, since=_since(since), out_dir=out, explain=explain)
    _run_digests(settings, _chosen(settings, digest), options, _now(as_of), quiet)


@app.command("fetch")
def fetch_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Fetch every feed now, even those backing off or disabled."),
    ] = False,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
) -> None:
    """Fetch every configured feed once and store new articles."""
    settings = load(config, data_dir)
    store = store_for(settings)
    now = _now(as_of)
    try:
        # Locked like `digest run`: two writers of the same feed's state would race.
        with run_lock(settings), _progress(quiet) as progress:
            sources = sources_for(settings, store, settings.digests)
            report = fetch_once(settings, store, sources, now, Deps(progress=progress), force=force)
            prune_store(settings, store, now)
    except LockError as exc:
        fail(f"{exc} (digest serve fetches on its own schedule)", EXIT_FAILED)
    _print_ingest(report)
    raise typer.Exit(EXIT_OK if not report.failures else EXIT_FAILED)


def _run_digests(
    settings: Settings,
    chosen: Sequence[DigestSettings],
    options: RunOptions,
    now: datetime,
    quiet: bool,
) -> None:
    store = store_for(settings)
    reports: list[RunReport] = []
    try:
        # `digest build` reads the store and writes files only: it need not wait for a run.
        lock = run_lock(settings) if options.send or options.fetch else nullcontext()
        with lock, _progress(quiet) as progress:
            ingest = _run_locked(settings, store, chosen, options, now, progress, reports)
    except LockError as exc:
        fail(f"{exc} (another digest run or digest serve is using this database)", EXIT_FAILED)
    if ingest is not None:
        _print_ingest(ingest, failures=False)
    for report in reports:
        _print_report(report)
    raise typer.Exit(EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED)


def _run_locked(
    settings: Settings,
    store: Store,
    chosen: Sequence[DigestSettings],
    options: RunOptions,
    now: datetime,
    progress: Progress,
    reports: list[RunReport],
) -> IngestReport | None:
    deps = Deps(progress=progress)
    if options.send:
        # Earlier periods' deliveries still due (a 4xx, a server that was down): cron-only
        # setups have no service to retry them, so every run does.
        retried, failures = retry_deliveries(settings, store, deps)
        if retried or failures:
            reports.append(
                RunReport(digest="", period_key="", failures=failures, deliveries=retried)
            )
    ingest: IngestReport | None = None
    if options.fetch:
        ingest = fetch_once(settings, store, sources_for(settings, store, chosen), now, deps)
    for d in chosen:
        progress(f"building {d.name}")
        reports.append(run_once(settings, d, store, now, deps, options, ingest_report=ingest))
    if options.fetch:
        prune_store(settings, store, now)
    return ingest


def _chosen(settings: Settings, names: list[str] | None) -> list[DigestSettings]:
    if not names:
        return list(settings.digests)
    try:
        return [settings.digest(n) for n in names]
    except Exception as exc:
        fail(str(exc))


def _since(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        fail(f"--since: {exc}")


def _now(as_of: str | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of: {as_of!r} is not an ISO date-time like 2026-11-25T07:00:00+01:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    """Yield a progress callback: a Rich spinner on a terminal, plain log lines otherwise."""
    if quiet:
        yield lambda _msg: None
    elif is_terminal():
        with console.status("starting") as status:
            yield lambda msg: status.update(msg)
    else:
        yield lambda msg: err_console.print(f"digest: {msg}", markup=False)


@app.command("preview")
def preview_command(
    folder: Annotated[Path, typer.Argument(help="A folder of written digests (see --out).")],
) -> None:
    """Write PNG previews of each digest in a folder: PDF pages and the email at 600 px."""
    from digest.render import write_previews

    pdfs = sorted(folder.glob("*.pdf"))
    if not pdfs:
        fail(f"preview: {folder}: no PDF files here (run `digest run --out {folder}` first)")
    code = EXIT_OK
    for pdf in pdfs:
        try:
            for png in write_previews(pdf, pdf.with_suffix(".html"), folder / "previews"):
                console.print(f"wrote {png}", markup=False)
        except DigestError as exc:
            err_console.print(f"error: {exc}", markup=False)
            code = EXIT_FAILED
    raise typer.Exit(code)


# Registered after run/build/fetch so `digest --help` lists the everyday commands first.
for command in cli_delivery.app.registered_commands + cli_service.app.registered_commands:
    app.registered_commands.append(command)


def _print_ingest(report: IngestReport, *, failures: bool = True) -> None:
    failed = sum(1 for h in report.health if not h.ok)
    console.print(
        f"fetched {len(report.health)} feeds ({failed} failed, {report.not_modified} "
        f"not modified): {report.entries} entries, {report.new_articles} new articles, "
        f"{report.duplicates} duplicates",
        markup=False,
    )
    for failure in report.failures if failures else ():
        console.print(f"  failed: {failure}", markup=False)


def _print_report(report: RunReport) -> None:
    if not report.digest:  # deliveries of earlier periods, retried
        for delivery in report.deliveries:
            console.print(f"retried: {delivery.recipient}: {delivery.status}", markup=False)
        for failure in report.failures:
            console.print(f"  failed: {failure}", markup=False)
        return
    c = report.count
    line = (
        f"{report.digest} [{report.period_key}]: {c('events')} events from {c('articles')} articles"
    )
    if c("feeds"):
        line += f" ({c('feeds')} feeds, {c('feeds_failed')} failed)"
    console.print(line, markup=False)
    for path in report.outputs:
        console.print(f"  wrote {path}", markup=False)
    for why in report.explanations:  # digest build --explain
        console.print(f"  event {why.key}: {why.articles} articles: {why.headline}", markup=False)
        console.print(f"    shared terms: {', '.join(why.terms) or '-'}", markup=False)
        for step in why.merges:
            line = f"    merged at {step.similarity:.3f}: {step.left} + {step.right}"
            console.print(line, markup=False)
    for delivery in report.deliveries:
        where = f" -> {delivery.path}" if delivery.path else ""
        console.print(f"  {delivery.status}: {delivery.recipient}{where}", markup=False)
    for failure in report.failures:
        console.print(f"  failed: {failure}", markup=False)
