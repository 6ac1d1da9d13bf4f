"""Service: `digest serve`, the APScheduler process that fetches and sends on schedule.

`serve_forever` runs the scheduler with its signal handlers and the health/metrics server;
`next_slot` tells when a digest is next due (for `digest status`). Jobs call the pipeline, so
a scheduled run and `digest run` do the same work.
"""

from digest.service.process import serve_forever
from digest.service.schedule import next_slot
from digest.service.site import parse_address, start_site_server

__all__ = ["next_slot", "parse_address", "serve_forever", "start_site_server"]
