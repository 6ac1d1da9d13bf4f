"""`digest eval ...`: score summaries, events, same-event pairs and key facts against JSONL sets."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from digest.cli.common import new_app
from digest.errors import EvalError
from digest.eval import audit, harness, reader

app = new_app(
    help="Measure summaries (ROUGE), events (B-cubed), pairs and key facts against JSONL sets.",
)

FileArg = Annotated[
    Path,
    typer.Argument(
        help="JSON Lines file, one object per line: summarize needs text and references, "
        "events text and event, pairs a, b and same_event; title and language are optional."
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the figures as one JSON object on the last line.")
]
LimitOption = Annotated[
    int | None, typer.Option("--limit", min=1, help="Score only the first N items.")
]


def _fail(exc: EvalError) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2) from exc


def _load(path: Path, kind: str, limit: int | None) -> list[dict[str, object]]:
    try:
        return harness.read_jsonl(path, kind, limit)
    except EvalError as exc:
        _fail(exc)


def _report(title: str, results: dict[str, harness.Scores], as_json: bool) -> None:
    typer.echo(title)
    for line in harness.iter_rows(results):
        typer.echo(line)
    if as_json:
        typer.echo(json.dumps({name: s.rounded() for name, s in results.items()}))
    sys.stdout.flush()


@app.command("summarize")
def summarize_command(
    file: FileArg,
    sentences: Annotated[
        int, typer.Option("--sentences", min=1, help="Sentences per summary.")
    ] = 3,
    as_json: JsonOption = False,
    limit: LimitOption = None,
) -> None:
    """Print ROUGE-1/2/Lsum F1 (x100) and ms per document for ours and Lead-N."""
    items = _load(file, "summarize", limit)
    try:
        results = harness.score_summaries(items, harness.summary_methods(sentences))
    except EvalError as exc:  # rouge-score missing
        _fail(exc)
    _report(f"{file.name}: {len(items)} documents, {sentences} sentences", results, as_json)


@app.command("events")
def events_command(file: FileArg, as_json: JsonOption = False, limit: LimitOption = None) -> None:
    """Print B-cubed precision/recall/F1 and ms per document for ours and two baselines."""
    items = _load(file, "events", limit)
    _report(f"{file.name}: {len(items)} documents", harness.score_events(items), as_json)


@app.command("pairs")
def pairs_command(
    file: FileArg,
    as_json: JsonOption = False,
    limit: LimitOption = None,
    background: Annotated[
        Path | None,
        typer.Option(
            "--background",
            help="JSON Lines of other articles ({title, text}): also score the pairs mixed "
            "into them as one period, as a real day of news is clustered.",
        ),
    ] = None,
) -> None:
    """Print precision/recall/F1 of "same event" as decided by the events stage."""
    items = _load(file, "pairs", limit)
    results = harness.score_pairs(items)
    if background is not None:
        others = _load(background, "background", None)
        mixed = harness.score_pairs(items, background=others)["ours"]
        results["ours+background"] = mixed
    title = f"{file.name}: {len(items)} pairs"
    if background is not None:
        title += f" (background: {background.name}, {len(others)} articles)"
    _report(title, results, as_json)


@app.command("cv")
def cv_command(
    events_file: Annotated[
        Path, typer.Option("--events", help="Events set (text, event), e.g. ECB+ dev.")
    ],
    pairs_file: Annotated[
        Path, typer.Option("--pairs", help="Same-story pairs (a, b, same_event).")
    ],
    negatives_file: Annotated[
        Path | None,
        typer.Option(
            "--negatives",
            help="Articles of different stories (title, text), e.g. the categories set: "
            "clustered with the pairs, each two of them put in one event is a false merge.",
        ),
    ] = None,
    folds: Annotated[int, typer.Option("--cv", min=2, help="Number of folds (K).")] = 5,
    as_json: JsonOption = False,
) -> None:
    """Choose the clustering settings by K-fold cross-validation over every labelled set.

    Folds hold out whole topics of the events set and single pairs; the figures printed
    first are those of held-out data only. Takes a minute or two.
    """
    from digest.eval import crossval  # only this command needs it

    sets = crossval.Sets(
        _load(events_file, "events", None),
        _load(pairs_file, "pairs", None),
        _load(negatives_file, "background", None) if negatives_file else (),
    )
    report = crossval.cross_validate(sets, folds)
    typer.echo(f"{folds}-fold cross-validation (figures on held-out data):")
    typer.echo(f"  events B-cubed F1 {report.cv_events_f1}")
    typer.echo(f"  pairs {_figures(report.cv_pairs)}")
    for language, figures in report.cv_pairs_by_language.items():
        typer.echo(f"    {language}: {_figures(figures)}")
    typer.echo(f"  pairs with negatives {_figures(report.cv_pairs_negatives)}")
    typer.echo(f"  negatives merged: {report.cv_false_merges}")
    for k, chosen in enumerate(report.fold_choices):
        typer.echo(f"  fold {k + 1} chose {_setting(chosen, crossval.GRID)}")
    typer.echo(f"chosen on all data: {_setting(report.chosen, crossval.GRID)}")
    typer.echo(
        f"  on the data it was chosen on: events F1 {report.dev_events_f1}, "
        f"pairs {_figures(report.dev_pairs)}, negatives merged {report.dev_false_merges}"
    )
    if report.baseline is not None:
        b = report.baseline
        typer.echo(
            f"current defaults on all data: events F1 {b['events_f1']}, "
            f"pairs {_figures(b['pairs'])}, negatives merged {b['false_merges']}"
        )
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    sys.stdout.flush()


def _figures(figures: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.3f}" for k, v in figures.items())


def _setting(params: object, grid: dict[str, list[float]]) -> str:
    return ", ".join(f"{k} {getattr(params, k)}" for k in grid)


@app.command("facts")
def facts_command(file: FileArg, as_json: JsonOption = False, limit: LimitOption = None) -> None:
    """Print precision/recall/F1 of people, organisations and places, and ms per document."""
    items = _load(file, "facts", limit)
    results = harness.score_facts(items)["ours"]
    typer.echo(f"{file.name}: {len(items)} documents")
    for kind in (*harness.FACT_KINDS, "all"):
        figures = "  ".join(f"{k} {v:.3f}" for k, v in results[kind].items())
        typer.echo(f"{kind:<15} {figures}")
    typer.echo(f"ms per document {results['ms_per_doc']:.1f}")
    if as_json:
        typer.echo(json.dumps({"ours": _rounded(results)}))
    sys.stdout.flush()


def _rounded(results: dict[str, object]) -> dict[str, object]:
    return {
        k: round(v, 1) if isinstance(v, float) else {n: round(x, 3) for n, x in v.items()}
        for k, v in results.items()
        if isinstance(v, (float, dict))
    }


@app.command("reader")
def reader_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON Lines of real articles: title, text, url, and optionally published "
            "(or date), category, source, language."
        ),
    ],
    as_json: JsonOption = False,
    limit: LimitOption = None,
    language: Annotated[
        str | None,
        typer.Option("--language", help="Only the articles in this language (en, ru)."),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option(
            "--day",
            help="The day (YYYY-MM-DD) undated articles are spread over; the digest is built "
            "at its end. Default: the day of the latest dated article.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Keep the digest's .txt, .html, .epub and .ics here."),
    ] = None,
    examples: Annotated[
        int, typer.Option("--examples", min=0, help="Errors printed per class.")
    ] = 5,
) -> None:
    """Build a digest from real articles as `digest run` would and count what a reader
    would find wrong in it, by class (rules: docs/evaluation.md)."""
    try:
        items = reader.read_corpus(file, language=language, limit=limit)
        when = date.fromisoformat(day) if day else None
    except ValueError as exc:
        _fail(EvalError("--day", str(exc)))
    except EvalError as exc:
        _fail(exc)
    try:
        built = reader.build_reader_digest(items, day=when, out_dir=out)
    except EvalError as exc:
        _fail(exc)
    found = audit.audit(built, examples)
    events = built.digest.events
    typer.echo(
        f"{file.name}: {len(items)} articles, {len(events)} events, "
        f"{len(built.digest.coming_up)} coming up (digest of {built.now:%Y-%m-%d %H:%M} UTC)"
    )
    for line in audit.print_lines(found):
        typer.echo(line)
    if out is not None:
        typer.echo(f"digest written to {out}")
    if as_json:
        figures = {name: error.as_json() for name, error in found.items()}
        totals = {"articles": len(items), "events": len(events)}
        typer.echo(json.dumps({"reader": figures, **totals}, ensure_ascii=False))
    sys.stdout.flush()


@app.command("news")
def news_command(file: FileArg, as_json: JsonOption = False, limit: LimitOption = None) -> None:
    """Print precision/recall/F1 of telling not-news pages (horoscopes, adverts, how-to pages)
    from news, by language, for the title rules and for titles with the lead."""
    items = _load(file, "news", limit)
    results = harness.score_news(items)
    typer.echo(f"{file.name}: {len(items)} pages")
    for method, found in results.items():
        for group, figures in found["figures"].items():
            line = "  ".join(f"{k} {v:.3f}" for k, v in figures.items() if k != "pages")
            typer.echo(f"{method:<11} {group:<4} {line}  not-news pages {figures['pages']}")
        for page in found["flagged_news"]:
            typer.echo(f"{'':<11} flagged, labelled otherwise: {page}")
    if as_json:
        typer.echo(json.dumps({m: found["figures"] for m, found in results.items()}))
    sys.stdout.flush()
