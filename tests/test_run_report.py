"""The run report's JSON: written and read back by RunReport alone, old reports still read."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from digest.models import (
    Delivery,
    EventExplanation,
    Failure,
    MergeStep,
    RunCounts,
    RunReport,
)

AT = datetime(2026, 11, 25, 6, 0, 12, tzinfo=UTC)


def test_a_report_survives_its_json_unchanged() -> None:
    report = RunReport(
        digest="morning",
        period_key="2026-11-25T07:00+0100",
        counts=RunCounts(
            feeds=4,
            feeds_failed=1,
            feeds_waiting=1,
            entries=80,
            new_articles=12,
            articles=40,
            filtered=3,
            events_found=9,
            events=8,
            removed=(("exclude horoscope", 3),),
            summarizer=(("llm_cached", 2), ("llm_generated", 6)),
        ),
        failures=(
            Failure("fetch", "https://x/feed.xml", "HTTP 404"),
            # A message holding ": " is kept whole (it was split on ": " once).
            Failure("deliver", "bob@example.org", "550 5.1.1 mailbox: unavailable"),
        ),
        timings=(("fetch", 1.5), ("deliver", 0.25)),
        outputs=("/srv/out/morning-2026-11-25.pdf",),
        deliveries=(
            Delivery("a@example.org", "sent", "<id@x>", 1),
            Delivery("b@example.org", "failed", "<id2@x>", 1, "550 no", earlier_at=AT),
            Delivery("c@example.org", "retry", "<id3@x>", 2, "421 busy", next_attempt_at=AT),
            Delivery("d@example.org", "written", path="/srv/outbox/d.eml"),
        ),
        delivery="incomplete",
        notes=("not sent to e@example.org: unsubscribed",),
        explanations=(EventExplanation("k1", "Quake", 2, ("iran",), (MergeStep("a", "b", 0.41),)),),
    )
    assert RunReport.from_json(report.to_json()) == report
    bug = Failure("summarize", "https://x/a", "KeyError: 'x'", trace="Traceback (most ...")
    kept = RunReport.from_json(replace(report, failures=(bug,)).to_json()).failures[0]
    assert kept.trace == bug.trace  # a bug's stack stays with the stored report
    assert (report.delivered, report.already_delivered) == (2, 0)
    assert (report.delivery_failed, report.delivery_waiting) == (1, 1)
    assert report.count("removed by exclude horoscope") == 3
    assert report.count("llm_generated") == 6 and report.count("events") == 8


def test_a_report_stored_before_0_2_0_is_read() -> None:
    old = {
        "digest": "morning",
        "period": "2026-11-25T07:00+0100",
        "counts": {
            "feeds": 4,
            "events": 8,
            "articles": 40,
            "removed by exclude horoscope": 3,
            "llm_generated": 6,
            "delivered": 50,
            "delivery_retry": 0,
        },
        "failures": ["deliver: bob@example.org: 550 5.1.1 mailbox unavailable"],
        "timings": {"fetch": 1.5},
        "outputs": [],
        "deliveries": [
            {
                "recipient": "a@example.org",
                "status": "sent",
                "error": None,
                "path": None,
                "earlier_at": AT.isoformat(),
            },
            {"recipient": "bob@example.org", "status": "failed", "error": "550", "path": None},
        ],
        "skipped": None,
        "notes": [],
    }
    report = RunReport.from_json(json.dumps(old))
    assert report.counts == RunCounts(
        feeds=4,
        events=8,
        articles=40,
        removed=(("exclude horoscope", 3),),
        summarizer=(("llm_generated", 6),),
    )
    assert report.failures == (
        Failure("deliver", "bob@example.org", "550 5.1.1 mailbox unavailable"),
    )
    assert report.deliveries[0].earlier_at == AT and report.delivery == "incomplete"
    empty = RunReport.from_json(
        json.dumps({**old, "failures": [], "deliveries": [], "skipped": "no mail: no new stories"})
    )
    assert empty.delivery == "empty" and empty.notes == ("no mail: no new stories",)
    broken = RunReport.from_json(json.dumps({**old, "failures": ["deliver: morning: boom"]}))
    assert broken.delivery == "broken"
