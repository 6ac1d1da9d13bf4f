"""Evaluation harness: ROUGE for summaries, B-cubed for events, P/R/F1 for same-event pairs.

Reads the JSON Lines formats of docs/evaluation.md and scores our stages and the built-in baselines
in one run, so figures are always comparable.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digest.errors import EvalError
from digest.events import PARAMS, Params, find_facts, rank, summarize
from digest.events import cluster as events
from digest.models import Article, Event, EventSummary
from digest.text import detect_language, split_sentences, stem_words

# Eval items carry no publish time; any fixed one will do, as long as all share it.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_REQUIRED = {
    "summarize": ("text", "references"),
    "events": ("text", "event"),
    "pairs": ("a", "b", "same_event"),
    "facts": ("text", "people", "organisations", "places"),
    "background": ("text",),
    "news": ("title", "text", "category"),
}


def read_jsonl(path: Path, kind: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Return the file's items, each checked for the keys that `kind` needs."""
    items: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(str(path), f"cannot read: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path}: line {number}", f"not JSON: {exc.msg}") from exc
        missing = [k for k in _REQUIRED[kind] if not isinstance(item, dict) or k not in item]
        if missing:
            raise EvalError(f"{path}: line {number}", f"missing {', '.join(missing)}")
        items.append(item)
        if limit is not None and len(items) >= limit:
            break
    if not items:
        raise EvalError(str(path), "no items")
    return items


def article_from(item: dict[str, Any], index: int) -> Article:
    """Return an Article for an eval item; source and id are left out on purpose."""
    text = str(item.get("text") or "")
    return Article(
        feed_url="eval",
        source="",
        guid=str(index),
        url=f"eval:{index}",
        title=str(item.get("title") or ""),
        published=EPOCH,
        text=text,
        language=str(item.get("language") or "en"),
        id=index,
    )


# --- summaries ---------------------------------------------------------------------------


class UnicodeTokenizer:
    """rouge-score tokenizer that keeps any letters (its default keeps only a-z and 0-9)."""

    def __init__(self, language: str) -> None:
        self.language = language

    def tokenize(self, text: str) -> list[str]:
        """Return lower-cased, stemmed word tokens."""
        return stem_words(re.findall(r"[^\W_]+", text), self.language)


@dataclass(frozen=True)
class Scores:
    """Mean figures of one method over a file (ROUGE x100, or precision/recall/F1)."""

    values: dict[str, float]

    def rounded(self) -> dict[str, float]:
        """Return the figures rounded for printing."""
        return {
            k: round(v, 3 if k in ("precision", "recall", "f1") else 2)
            for k, v in self.values.items()
        }


Method = Callable[[Event], EventSummary]


def _scorer(language: str) -> Any:
    try:
        from rouge_score import rouge_scorer  # only eval needs it (the `eval` extra)
    except ImportError as exc:
        raise EvalError("rouge-score", "not installed: pip install 'digest[eval]'") from exc

    tokenizer = None if language == "en" else UnicodeTokenizer(language)
    return rouge_scorer.RougeScorer(
        ["rouge1", "rouge2", "rougeLsum"], use_stemmer=True, tokenizer=tokenizer
    )


def score_summaries(
    items: Sequence[dict[str, Any]], methods: dict[str, Method]
) -> dict[str, Scores]:
    """Return ROUGE-1/2/Lsum F1 x100 and ms per document for each summarizing method."""
    scorers: dict[str, Any] = {}
    totals: dict[str, dict[str, float]] = {name: {} for name in methods}
    for index, item in enumerate(items):
        article = article_from(item, index)
        event = Event(key=str(index), articles=(article,))
        if article.language not in scorers:
            scorers[article.language] = _scorer(article.language)
        scorer = scorers[article.language]
        # rougeLsum scores summary-level LCS over newline-separated sentences on both sides;
        # references arrive as plain paragraphs, so they are split the same way predictions are.
        refs = ["\n".join(split_sentences(str(r), article.language)) for r in item["references"]]
        for name, method in methods.items():
            started = time.perf_counter()
            summary = method(event)
            totals[name]["ms"] = (
                totals[name].get("ms", 0.0) + (time.perf_counter() - started) * 1000
            )
            prediction = "\n".join(s.text for s in summary.sentences)
            for key, score in scorer.score_multi(refs, prediction).items():
                totals[name][key] = totals[name].get(key, 0.0) + score.fmeasure * 100
    n = max(1, len(items))
    keys = ("rouge1", "rouge2", "rougeLsum")
    return {
        name: Scores({**{k: t[k] / n for k in keys}, "ms_per_doc": t["ms"] / n})
        for name, t in totals.items()
    }


def summary_methods(sentences: int) -> dict[str, Method]:
    """Return our summarizer and the Lead baseline, both cut to `sentences` sentences."""
    return {
        "ours": lambda e: summarize.summarize_event(e, sentences=sentences, now=EPOCH),
        "lead3": lambda e: summarize.summarize_lead(e, sentences=sentences, now=EPOCH),
    }


# --- events ------------------------------------------------------------------------------


def bcubed(predicted: Sequence[object], gold: Sequence[object]) -> tuple[float, float, float]:
    """Return item-level B-cubed precision, recall and F1."""
    pairs = Counter(zip(predicted, gold, strict=True))
    pc, gc = Counter(predicted), Counter(gold)
    n = max(1, len(gold))
    precision = sum(c * c / pc[p] for (p, _), c in pairs.items()) / n
    recall = sum(c * c / gc[g] for (_, g), c in pairs.items()) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _labels(found: Sequence[Event], articles: Sequence[Article]) -> list[str]:
    by_url = {a.url: e.key + str(i) for i, e in enumerate(found) for a in e.articles}
    return [by_url[a.url] for a in articles]


def score_events(items: Sequence[dict[str, Any]]) -> dict[str, Scores]:
    """Return B-cubed figures and ms per document for our events and the two baselines."""
    articles = [article_from(item, i) for i, item in enumerate(items)]
    gold = [str(item["event"]) for item in items]
    methods: dict[str, Callable[[], list[str]]] = {
        "ours": lambda: _labels(events.find_events(articles, now=EPOCH), articles),
        "singletons": lambda: [a.url for a in articles],
        "title_baseline": lambda: _labels(events.find_events_baseline(articles), articles),
    }
    out: dict[str, Scores] = {}
    for name, method in methods.items():
        started = time.perf_counter()
        predicted = method()
        ms = (time.perf_counter() - started) * 1000 / max(1, len(items))
        p, r, f = bcubed(predicted, gold)
        out[name] = Scores({"precision": p, "recall": r, "f1": f, "ms_per_doc": ms})
    return out


def pair_articles(items: Sequence[dict[str, Any]]) -> list[Article]:
    """Return both sides of every pair as articles: item i's sides are 2i and 2i + 1."""
    articles: list[Article] = []
    for index, item in enumerate(items):
        for offset, side in enumerate((item["a"], item["b"])):
            fields = dict(side) | {"language": item.get("language") or "en"}
            articles.append(article_from(fields, 2 * index + offset))
    return articles


def background_articles(items: Sequence[dict[str, Any]], pairs: Sequence[Article]) -> list[Article]:
    """Return the background's articles, numbered after the pairs, without their duplicates.

    An article that is also a side of a pair (the same title) would only be a copy of it.
    """
    titles = {events.normalise_title(a.title) for a in pairs}
    out: list[Article] = []
    for item in items:
        fields = dict(item) | {"language": item.get("language") or detect_language(item["text"])}
        if events.normalise_title(str(item.get("title") or "")) not in titles:
            out.append(article_from(fields, len(pairs) + len(out)))
    return out


def score_pairs(
    items: Sequence[dict[str, Any]],
    background: Sequence[dict[str, Any]] = (),
    params: Params = PARAMS,
) -> dict[str, Scores]:
    """Return precision/recall/F1 of `same_event` as decided by our events stage.

    All the file's articles go through the events stage as one period (so term weights
    come from a realistic collection); a pair is "same event" when both land in one event.
    With a `background` (a day of other news), its articles join that period as well.
    """
    articles = pair_articles(items)
    articles += background_articles(background, articles)
    labels = _labels(events.find_events(articles, now=EPOCH, params=params), articles)
    tp = fp = fn = 0
    for index, item in enumerate(items):
        same = labels[2 * index] == labels[2 * index + 1]
        gold = bool(item["same_event"])
        tp += same and gold
        fp += same and not gold
        fn += gold and not same
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"ours": Scores({"precision": p, "recall": r, "f1": f})}


# --- key facts ---------------------------------------------------------------------------

FACT_KINDS = ("people", "organisations", "places")


def fact_key(name: str) -> str:
    """Return a name as the facts rule compares it: lower case, ё as е, no quotes or extra spaces."""
    name = re.sub(r"[\"'«»“”„‘’]", "", name.casefold().replace("ё", "е"))
    return " ".join(name.split())


def _tally(predicted: Sequence[str], gold: Sequence[Sequence[str]]) -> tuple[int, int, int, int]:
    """Return (right names, names predicted, gold entities found, gold entities)."""
    entities = [{fact_key(a) for a in aliases} for aliases in gold]
    names = {fact_key(n) for n in predicted}
    right = sum(any(n in e for e in entities) for n in names)
    found = sum(bool(e & names) for e in entities)
    return right, len(names), found, len(entities)


def _prf(right: int, predicted: int, found: int, gold: int) -> dict[str, float]:
    p = right / predicted if predicted else 0.0
    r = found / gold if gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def score_facts(items: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return precision/recall/F1 per kind and overall ("all"), micro-averaged, and ms per doc."""
    totals = {kind: [0, 0, 0, 0] for kind in (*FACT_KINDS, "all")}
    for language in {str(item.get("language") or "en") for item in items}:
        find_facts(["Москва."], language)  # load the models once, as a running service has
    started = time.perf_counter()
    for item in items:
        # Titles are left out as in a digest: headline case capitalises common words.
        facts = find_facts([str(item["text"])], str(item.get("language") or "en"), limit=None)
        for kind in FACT_KINDS:
            counts = _tally(getattr(facts, kind), item[kind])
            for total in (totals[kind], totals["all"]):
                for i, c in enumerate(counts):
                    total[i] += c
    ms = (time.perf_counter() - started) * 1000 / max(1, len(items))
    figures: dict[str, Any] = {kind: _prf(*t) for kind, t in totals.items()}
    return {"ours": figures | {"ms_per_doc": ms}}


def iter_rows(results: dict[str, Scores]) -> Iterator[str]:
    """Yield one aligned text line per method."""
    for name, scores in results.items():
        figures = "  ".join(f"{k} {v:>7}" for k, v in scores.rounded().items())
        yield f"{name:<15} {figures}"


# --- news or not --------------------------------------------------------------------------

NOT_NEWS = "not_news"  # the label of pages that are not news in the categories format


def score_news(items: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return precision/recall/F1 of "not news" per language and overall, for the title rules
    alone and for titles with the lead; and the pages each flagged that are labelled news.

    A page is not news when labelled `not_news`; the figures compare with that label only
    (a set may label a horoscope or a forecast otherwise, and those are listed apart).
    """
    methods: dict[str, Callable[[Article], str]] = {
        "title": lambda a: rank.not_news_kind(replace(a, text="")),
        "title+lead": rank.not_news_kind,
    }
    out: dict[str, dict[str, Any]] = {}
    for name, method in methods.items():
        tallies: dict[str, list[int]] = {}
        flagged: list[str] = []
        for index, item in enumerate(items):
            article = article_from(item, index)
            kind = method(article)
            gold = item["category"] == NOT_NEWS
            for group in (article.language, "all"):
                t = tallies.setdefault(group, [0, 0, 0])  # right, predicted, gold
                t[0] += bool(kind) and gold
                t[1] += bool(kind)
                t[2] += gold
            if kind and not gold:
                flagged.append(
                    f"{item.get('id', index)} [{item['category']}] {kind}: {article.title}"
                )
        figures = {
            g: _prf(t[0], t[1], t[0], t[2]) | {"pages": t[2]} for g, t in sorted(tallies.items())
        }
        out[name] = {"figures": figures, "flagged_news": flagged}
    return out
