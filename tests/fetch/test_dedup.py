"""dedup: canonical URLs and near-duplicate fingerprints of syndicated texts."""

from __future__ import annotations

from digest.fetch.dedup import SAME, canonical_url, fingerprint, similarity
from digest.fetch.lsh import FingerprintIndex

WIRE = (
    "BRUSSELS (Reuters) - European Union leaders agreed early on Wednesday on a new package "
    "of sanctions that targets shipping, banking and energy exports, after talks that ran for "
    "more than fourteen hours. Officials said the measures would take effect once published in "
    "the bloc's official journal, and that a review is planned for the spring. Several member "
    "states had asked for exemptions for liquefied gas contracts signed before the war, and a "
    "compromise gives them until the end of next year to wind those contracts down."
)
OTHER = (
    "The city council voted on Tuesday to expand the tram network to the northern districts. "
    "The project will cost about 400 million euros and take six years to build, officials said, "
    "while opponents argued that the money should go to buses, which serve more neighbourhoods "
    "today and could be expanded far faster than any new tram line."
)


def test_canonical_url_drops_tracking_and_fragment() -> None:
    url = "HTTPS://News.Example.COM:443/a/b?id=7&utm_source=rss&fbclid=x&gclid=y&utm_medium=z#top"
    assert canonical_url(url) == "https://news.example.com/a/b?id=7"
    assert canonical_url("http://e.org:8080") == "http://e.org:8080/"
    assert (
        canonical_url("https://e.org/s?q=a%2Fb+c&utm_term=x&x=1") == "https://e.org/s?q=a%2Fb+c&x=1"
    )
    assert canonical_url("file:///etc/passwd") == "file:///etc/passwd"
    assert canonical_url("not a url") == "not a url"


def test_syndicated_copies_are_near_and_other_stories_far() -> None:
    copy = (
        "By Jane Smith\n\n" + WIRE.replace("BRUSSELS (Reuters) - ", "") + " Reporting by Jan Doe."
    )
    assert similarity(fingerprint(WIRE), fingerprint(copy)) >= SAME
    assert similarity(fingerprint(WIRE), fingerprint(OTHER)) < 0.1
    assert similarity(fingerprint(WIRE), fingerprint(WIRE)) == 1.0
    assert fingerprint("") == "" and similarity("", fingerprint(WIRE)) == 0.0
    assert fingerprint(WIRE) == fingerprint(" ".join(WIRE.split()).upper())  # stable, case-blind


def test_index_gives_near_duplicates_the_first_fingerprint() -> None:
    index = FingerprintIndex([fingerprint(WIRE)])
    copy = WIRE.replace("Wednesday", "Wednesday morning") + " Editing by Sam."
    assert index.resolve(fingerprint(copy)) == fingerprint(WIRE)
    assert index.resolve(fingerprint(OTHER)) == fingerprint(OTHER)
    assert len(index) == 2
