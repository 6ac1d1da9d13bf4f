"""digest: scheduled news digests from RSS/Atom feeds, as PDF and HTML email."""

__version__ = "0.1.0"
