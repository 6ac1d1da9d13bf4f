"""Service: `digest serve`, the APScheduler process that fetches and sends on schedule.

`serve_forever` runs the scheduler with its signal handlers and the health/metrics server;
`next_slot` tells when a digest is next due (for `digest status`). Jobs call the pipeline, so
a scheduled run and `digest run` do the same work.
"""

from digest.service.process import serve_forever
from digest.service.schedule import next_slot

__all__ = ["next_slot", "serve_forever"]
