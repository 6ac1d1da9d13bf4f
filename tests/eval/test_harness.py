"""Tests for digest.eval.harness and `digest eval`: B-cubed, ROUGE with Cyrillic, JSONL errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli.eval import app
from digest.errors import EvalError
from digest.eval import harness as evaluation

DATA = Path(__file__).parents[1] / "data" / "eval"


def test_bcubed_of_known_clusterings() -> None:
    gold = ["a", "a", "b", "b"]
    assert evaluation.bcubed([1, 1, 2, 2], gold) == (1.0, 1.0, 1.0)
    p, r, f = evaluation.bcubed([1, 2, 3, 4], gold)
    assert (p, r) == (1.0, 0.5)
    assert f == pytest.approx(2 / 3)
    p, r, _ = evaluation.bcubed([1, 1, 1, 1], gold)
    assert (p, r) == (0.5, 1.0)


def test_cyrillic_tokenizer_keeps_russian_words() -> None:
    tokens = evaluation.UnicodeTokenizer("ru").tokenize("Выборы пройдут в США, 6 ноября!")
    assert tokens == ["выбор", "пройдут", "в", "сша", "6", "ноябр"]


def test_russian_summary_scores_above_zero() -> None:
    items = evaluation.read_jsonl(DATA / "summarize-mini.jsonl", "summarize")
    russian = [i for i in items if i["language"] == "ru"]
    results = evaluation.score_summaries(russian, evaluation.summary_methods(2))
    assert results["ours"].values["rouge1"] > 50


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "x", "references": []}\nnot json\n', "line 2: not JSON"),
        ('{"text": "x"}\n', "line 1: missing references"),
        ("\n", "no items"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalError, match=message) as info:
        evaluation.read_jsonl(path, "summarize")
    assert str(info.value).startswith(f"eval: {path}: ")


def run(*args: str) -> dict[str, dict[str, float]]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    figures: dict[str, dict[str, float]] = json.loads(result.output.strip().splitlines()[-1])
    return figures


def test_cli_summarize_prints_ours_and_lead3() -> None:
    figures = run("summarize", str(DATA / "summarize-mini.jsonl"), "--sentences", "2")
    assert set(figures) == {"ours", "lead3"}
    for scores in figures.values():
        assert set(scores) == {"rouge1", "rouge2", "rougeLsum", "ms_per_doc"}
        assert 0 < scores["rouge1"] <= 100


def test_cli_events_scores_ours_and_both_baselines() -> None:
    figures = run("events", str(DATA / "events-ecbplus-mini.jsonl"))
    assert set(figures) == {"ours", "singletons", "title_baseline"}
    assert set(figures["ours"]) == {"precision", "recall", "f1", "ms_per_doc"}
    assert figures["singletons"]["precision"] == 1.0
    assert figures["ours"]["f1"] >= 0.9  # two rehab stories and two prison stories, apart


def test_cli_pairs_and_limit() -> None:
    figures = run("pairs", str(DATA / "pairs-ecbplus-mini.jsonl"), "--limit", "4")
    assert set(figures) == {"ours"}
    assert set(figures["ours"]) == {"precision", "recall", "f1"}
    assert figures["ours"]["f1"] >= 0.5


def test_cli_reports_a_missing_file_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["events", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert "eval:" in result.output and "none.jsonl" in result.output


def test_fact_key_folds_case_yo_quotes_and_spaces() -> None:
    assert evaluation.fact_key(" «Новая  Газета» ") == "новая газета"
    assert evaluation.fact_key("Фёдоров") == "федоров"


def test_cli_facts_scores_each_kind_and_all() -> None:
    figures = run("facts", str(DATA / "facts-mini.jsonl"))
    assert set(figures) == {"ours"}
    ours = figures["ours"]
    assert set(ours) == {"people", "organisations", "places", "all", "ms_per_doc"}
    for kind in ("people", "organisations", "places", "all"):
        assert set(ours[kind]) == {"precision", "recall", "f1"}  # type: ignore[arg-type]
    assert ours["people"]["precision"] == 1.0  # type: ignore[index]
    assert ours["all"]["f1"] >= 0.8  # type: ignore[index]


def test_cli_pairs_with_a_background_scores_them_mixed_into_other_news(tmp_path: Path) -> None:
    pairs = DATA / "pairs-tgcontest-fused.jsonl"
    items = evaluation.read_jsonl(pairs, "pairs")
    background = tmp_path / "day.jsonl"
    other = [json.loads(line) for line in (DATA / "summarize-mini.jsonl").read_text().splitlines()]
    copy = {"title": items[0]["a"]["title"], "text": items[0]["a"]["text"]}  # a duplicate
    lines = [{"title": o["title"], "text": o["text"]} for o in other] + [copy]
    background.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    figures = run("pairs", str(pairs), "--background", str(background))
    assert set(figures) == {"ours", "ours+background"}
    assert figures["ours"]["precision"] == 1.0  # the five fused pairs stay apart
    assert figures["ours+background"]["precision"] == 1.0
    mixed = evaluation.background_articles(lines, evaluation.pair_articles(items))
    assert len(mixed) == len(other)  # the copy of a pair's side is left out
    assert [a.id for a in mixed] == list(range(2 * len(items), 2 * len(items) + len(other)))


def test_cv_chooses_settings_on_other_folds_and_scores_held_out_data() -> None:
    result = CliRunner().invoke(
        app,
        [
            "cv",
            "--events",
            str(DATA / "events-ecbplus-mini.jsonl"),
            "--pairs",
            str(DATA / "pairs-tgcontest-fused.jsonl"),
            "--cv",
            "2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2-fold cross-validation (figures on held-out data)" in result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert len(report["fold_choices"]) == 2
    assert 0.5 < report["cv_events_f1"] <= 1.0
    assert set(report["cv_pairs_by_language"]) == {"en", "ru"}
    assert report["cv_false_merges"] == 0  # no negatives given
    # The setting shipped is the one chosen on all data, reported apart from the CV figures.
    assert report["chosen"]["threshold"] in (0.3, 0.28, 0.26, 0.24, 0.22, 0.2, 0.18)


def test_cv_counts_negatives_merged_as_false_merges() -> None:
    from digest.eval import crossval
    from digest.events.similarity import PARAMS

    twins = [{"title": "Quake kills ten in Iran", "text": "A quake killed ten people in Iran."}] * 2
    sets = crossval.Sets([], [], twins)
    folds = crossval.make_folds(sets, 2)
    run = sets.run(PARAMS)
    assert run.pairs[0] == run.pairs[1]  # two copies are one event...
    merged = crossval._pair_counts(run, sets, folds, lambda f: True, True)
    assert merged.fp == 1  # ...which the negatives call a false merge
