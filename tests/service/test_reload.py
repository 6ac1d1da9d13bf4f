"""SIGHUP with a bad config: a running `digest serve` logs the error, keeps its running config
and stays up and healthy (nan, "99999999999d", "0s" ended it with a traceback)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from badconfig import BAD_VALUES, case_id, write_config


class _Serve:
    """`digest serve` with a health port, its log (stderr) in a file we poll."""

    def __init__(self, root: Path, config: Path) -> None:
        self.log = root / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        cmd = [sys.executable, "-m", "digest", "serve", "--config", str(config)]
        with self.log.open("wb") as err:
            self.p = subprocess.Popen(
                [*cmd, "--health-port", "0"], stdout=subprocess.DEVNULL, stderr=err, env=env
            )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.findall(pattern, self.text())
            if len(found) >= count:
                return found
            assert self.p.poll() is None, f"serve exited {self.p.returncode}:\n{self.text()}"
            time.sleep(0.05)
        raise AssertionError(f"{count} x {pattern!r} not in the log:\n{self.text()}")

    def healthz(self, port: int) -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
            data: dict[str, object] = json.load(answer)
            return data


def test_sighup_with_each_bad_value_keeps_the_service_up_and_healthy(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'fetch_every = "30m"')
    serve = _Serve(tmp_path, config)
    try:
        port = int(serve.wait_for(r"event=health host=\S+ port=(\d+)")[0])
        serve.wait_for(r"event=stage stage=fetch digest=all ")
        for n, (top, digest, key) in enumerate(BAD_VALUES, start=1):
            write_config(tmp_path, top, digest)
            serve.p.send_signal(signal.SIGHUP)
            errors = serve.wait_for(r"event=reload ok=False error=(\"[^\n]*)", count=n)
            assert key in errors[-1], (case_id((top, digest, key)), errors[-1])
            assert serve.healthz(port)["status"] == "ok"
        assert "Traceback" not in serve.text()
        assert "event=reload ok=True" not in serve.text()
        # The running config was kept, and a good one is still taken.
        write_config(tmp_path, 'fetch_every = "45m"')
        serve.p.send_signal(signal.SIGHUP)
        serve.wait_for(r"event=reload ok=True digests=1")
        assert serve.healthz(port)["scheduler"] == "running"
    finally:
        serve.p.send_signal(signal.SIGTERM)
        code = serve.p.wait(30)
    assert code == 0, serve.text()
