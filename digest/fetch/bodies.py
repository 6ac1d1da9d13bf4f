"""Read fetched bodies under the size cap: HTTP responses and local feed files.

HTTP bodies are decompressed here with a bounded inflater (gzip, deflate, raw deflate), so
the cap holds after decompression; local feeds (file:// URLs and plain paths) are read with
their size and mtime playing ETag.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from digest.errors import FetchError
from digest.models import FeedState, FetchResult


def is_local(url: str) -> bool:
    """Return True for a file:// URL or an absolute local path (the offline sample feeds)."""
    return url.startswith("file:") or Path(url).is_absolute()


def local_path(url: str) -> Path:
    """Return the filesystem path a file:// URL or a plain path names."""
    if url.startswith("file:"):
        return Path(url2pathname(urlsplit(url).path))
    return Path(url)


class _Inflater:
    """Bounded decompression of a gzip or deflate body (raw deflate and mislabels accepted)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.zlib: Any = None
        self.passthrough = encoding in ("identity", "")

    def feed(self, raw: bytes, room: int) -> bytes:
        if self.passthrough:
            return raw
        if self.zlib is None:
            self.zlib = zlib.decompressobj(_wbits(self.encoding, raw))
            try:
                return bytes(self.zlib.decompress(raw, room + 1))
            except zlib.error:
                # Like feedparser: a body labelled compressed that is not is read as it is.
                self.passthrough = True
                return raw
        return bytes(self.zlib.decompress(raw, room + 1))

    def flush(self, room: int) -> bytes:
        return b"" if self.passthrough or self.zlib is None else bytes(self.zlib.flush(room + 1))


def _wbits(encoding: str, first: bytes) -> int:
    if encoding in ("gzip", "x-gzip"):
        return 16 + zlib.MAX_WBITS
    # "deflate" means zlib-wrapped data, but some servers send raw deflate.
    wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
    return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS


async def read_body(response: httpx.Response, encoding: str, limit: int) -> bytes:
    """Return the decoded body; FetchError when it exceeds limit or cannot be decompressed."""
    # Decompressed here, not by httpx: httpx inflates a whole network chunk at once, so
    # 64 KiB of a gzip bomb could become 64 MiB before any cap is checked. zlib's
    # max_length bounds every step, so the cap holds after decompression.
    inflater = _Inflater(encoding)
    chunks: list[bytes] = []
    room = limit
    try:
        async for raw in response.aiter_raw():
            chunk = inflater.feed(raw, room)
            if len(chunk) > room:
                raise FetchError(str(response.url), too_big(limit))
            room -= len(chunk)
            chunks.append(chunk)
        tail = inflater.flush(room)
    except zlib.error as exc:
        raise FetchError(str(response.url), f"bad {encoding} body: {exc}") from exc
    if len(tail) > room:
        raise FetchError(str(response.url), too_big(limit))
    return b"".join([*chunks, tail])


def too_big(limit: int) -> str:
    return f"body larger than {limit} bytes"


def read_file(url: str, limit: int, state: FeedState | None = None) -> FetchResult:
    path = local_path(url)
    try:
        # Size and nanosecond mtime play ETag, so an unchanged local feed is a 304 too.
        stat = path.stat()
        tag = f'"file-{stat.st_mtime_ns}-{stat.st_size}"'
        if state is not None and state.etag == tag:
            return FetchResult(url=url, status=304, final_url=path.as_uri(), etag=tag)
        with path.open("rb") as fh:
            body = fh.read(limit + 1)
    except OSError as exc:
        return FetchResult(url=url, status=0, error=f"cannot read {path}: {exc.strerror or exc}")
    if len(body) > limit:
        return FetchResult(url=url, status=0, error=too_big(limit))
    # A content type keeps feedparser from flagging every local file as bozo.
    kind = "application/json" if path.suffix.lower() == ".json" else "application/xml"
    return FetchResult(
        url=url,
        status=200,
        body=body,
        final_url=path.as_uri(),
        content_type=kind,
        etag=tag,
    )
