"""Lead images for the rendered digest, fetched under the same rules as article pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from digest.config import FetchSettings
from digest.fetch.client import fetch_page

MAX_IMAGE_BYTES = 5 * 1024 * 1024


def image_fetcher(settings: FetchSettings) -> Callable[[str], bytes | None]:
    """Return a function fetching a lead image under the fetch rules; None when it fails."""
    # Images go through the page fetcher: size cap, robots.txt and the private-address block
    # apply to them as to article pages.
    rules = replace(settings, max_bytes=min(settings.max_bytes, MAX_IMAGE_BYTES))

    def fetch_image(url: str) -> bytes | None:
        result = fetch_page(url, rules)
        if result.status != 200 or not (result.content_type or "").startswith("image/"):
            return None
        return result.body

    return fetch_image
