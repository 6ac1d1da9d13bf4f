"""deliver: kill -9 a delivering process at the worst moments, resume, count at the server.

The test runs this file as a script in a subprocess (`python test_deliver_crash.py ...`),
delivering one digest to 200 recipients through a real aiosmtpd server (STARTTLS + AUTH)
that lives in the test process, and SIGKILLs it:

1. while rendering the 50th recipient's message (rows exist for 49, nothing sent);
2. inside the server's DATA handler for the 100th message: the server has accepted it, the
   client never sees the 250 (the window SMTP cannot close);
3. at RCPT TO of r150, halfway through a transaction the server will discard.

Each run resumes with a later clock (so leases of killed attempts have expired). At the end
every recipient has exactly one message at the server: no duplicates and none missing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from smtpserver import NOW, SmtpServer

from digest.config.settings import Recipient
from digest.models import Rendered
from digest.store import ledger
from digest.store.database import open_store

HERE = Path(__file__).resolve().parent


def _child(tmp: Path, port: int, ca_file: str, now: str, kill_at_render: int) -> None:
    """Subprocess body: deliver the digest once, killing itself at the n-th render if asked."""
    from smtpserver import client_settings, make_settings, recipients, rendered

    from digest.deliver.send import deliver_digest

    smtp = client_settings(port, Path(ca_file))
    settings, d = make_settings(tmp, recipients(200), smtp=smtp)
    store = open_store(settings.storage_url)
    when = datetime.fromisoformat(now)
    run = store.claim_run("morning", "2026-11-25", when)
    base = rendered()
    renders = 0

    def render_for(recipient: Recipient) -> tuple[Rendered, tuple[str, ...]]:
        nonlocal renders
        renders += 1
        if renders == kill_at_render:
            os.kill(os.getpid(), signal.SIGKILL)
        return base, recipient.formats

    # Time is simulated: leases and retries run on the given time, not the wall clock.
    result = deliver_digest(store, settings, d, run.id, render_for, when, clock=lambda: when)
    print(" ".join(sorted({x.status for x in result})))


def test_kill_and_resume_delivers_every_recipient_exactly_once(tmp_path: Path) -> None:
    server = SmtpServer(tmp_path).start()
    handler = server.handler
    child: dict[str, int] = {}
    try:
        # 1. killed while rendering: nothing sent (rows are written 500 at a time: none yet).
        code = _deliver_in_child(tmp_path, server, NOW, child, kill_at_render=50)
        assert code == -signal.SIGKILL and handler.messages == []
        assert _statuses(tmp_path) == []

        # 2. killed by the server after it accepted message 100, before the client saw 250.
        handler.on_message = lambda n: os.kill(child["pid"], signal.SIGKILL) if n == 100 else None
        code = _deliver_in_child(tmp_path, server, NOW + timedelta(minutes=1), child)
        assert code == -signal.SIGKILL and len(handler.messages) == 100
        handler.on_message = None

        # 3. killed mid-transaction (at RCPT TO of r150): the server discards that one.
        handler.on_rcpt = lambda a: (
            os.kill(child["pid"], signal.SIGKILL) if a == "r150@example.org" else None
        )
        code = _deliver_in_child(tmp_path, server, NOW + timedelta(hours=1), child)
        assert code == -signal.SIGKILL and len(handler.messages) == 150
        handler.on_rcpt = None

        # 4. resumed: the rest is sent, nothing twice.
        assert _deliver_in_child(tmp_path, server, NOW + timedelta(hours=2), child) == 0
        # 5. and once more, much later: nothing is sent again.
        assert _deliver_in_child(tmp_path, server, NOW + timedelta(hours=3), child) == 0
    finally:
        server.stop()

    counts = {f"r{i:03d}@example.org": handler.count(f"r{i:03d}@example.org") for i in range(200)}
    assert [a for a, n in counts.items() if n > 1] == []  # zero duplicates
    assert [a for a, n in counts.items() if n == 0] == []  # zero missing
    assert len(handler.messages) == 200

    statuses = _statuses(tmp_path)
    # r099 was accepted by the server but the client died before the 250: at-most-once
    # keeps it out of automatic resending and reports its outcome as unknown.
    assert statuses.count("sent") == 199 and statuses[99] == "sending"


def _statuses(tmp: Path) -> list[str]:
    """Return the ledger status of each recipient's row, in row order."""
    store = open_store(f"sqlite:///{tmp / 'digest.db'}")
    try:
        run = store.get_run("morning", "2026-11-25")
        assert run is not None
        return [row.status for row in ledger.for_run(store, run.id)]
    finally:
        store.close()


def _deliver_in_child(
    tmp: Path, server: SmtpServer, now: datetime, child: dict[str, int], kill_at_render: int = 0
) -> int:
    """Run one delivery in a subprocess, publishing its pid for the server's kill hooks."""
    args = [str(tmp), str(server.port), str(server.ca_file), now.isoformat(), str(kill_at_render)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), str(HERE.parent)])}
    with subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        child["pid"] = proc.pid
        _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGKILL), err.decode()
    return proc.returncode


if __name__ == "__main__":
    _child(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
