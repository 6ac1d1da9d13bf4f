"""Fetch: feeds and pages in, stored articles out (the only stage that touches the network).

`fetch_and_store` runs one fetch pass (`fetch_pass` as a run's step, errors reported): HTTP
with limits, conditional GET and backoff (`client`), feed parsing (`parse`, feedparser),
full-text extraction and cleaning (`extract`, trafilatura), near-duplicate detection
(`dedup`) and storage. `fetch_page` fetches one page under the same rules, `image_fetcher`
a digest's lead images; `find_feed`/`export_opml`/`importable` discover, export and vet
imported feeds; `preview_article` shows what one item would store; `report_states` reports
feeds' health from their stored state; `steps_in_threads` keeps a pass in one process
(`digest worker`).
"""

from digest.fetch.bodies import is_local
from digest.fetch.client import fetch_page
from digest.fetch.discover import export_opml, find_feed, importable
from digest.fetch.images import image_fetcher
from digest.fetch.ingest import fetch_and_store, preview_article
from digest.fetch.outcomes import report_states
from digest.fetch.run import fetch_pass
from digest.fetch.workers import steps_in_threads

__all__ = [
    "export_opml",
    "fetch_and_store",
    "fetch_page",
    "fetch_pass",
    "find_feed",
    "image_fetcher",
    "importable",
    "is_local",
    "preview_article",
    "report_states",
    "steps_in_threads",
]
