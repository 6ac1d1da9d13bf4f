"""`digest eval ...`: score summaries, events, same-event pairs and key facts against JSONL sets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from digest.errors import EvalError
from digest.eval import harness

app = typer.Typer(
    help="Measure summaries (ROUGE), events (B-cubed), pairs and key facts against JSONL sets.",
    no_args_is_help=True,
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
