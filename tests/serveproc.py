"""Test helper: the real `digest serve` as a subprocess, its log in a file we poll.

Optionally under a wall clock the test steps: a sitecustomize.py (on PYTHONPATH) starts
time-machine at DIGEST_TEST_NOW, ticking, and shifts it by the seconds written, one number a
line, to the file DIGEST_TEST_CLOCK. time-machine leaves time.monotonic alone, as a real
clock step does.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

SITECUSTOMIZE = """
import os
if os.environ.get("DIGEST_TEST_NOW"):
    import datetime, threading, time, time_machine
    _travel = time_machine.travel(
        datetime.datetime.fromisoformat(os.environ["DIGEST_TEST_NOW"]), tick=True
    )
    _coordinates = _travel.start()
    _control = os.environ.get("DIGEST_TEST_CLOCK")

    def _follow():
        done = 0
        while True:
            try:
                with open(_control, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except OSError:
                lines = []
            for line in lines[done:]:
                _coordinates.shift(float(line))
            done = max(done, len(lines))
            time.sleep(0.05)

    if _control:
        threading.Thread(target=_follow, daemon=True).start()
"""


def clock_env(root: Path, now: str) -> dict[str, str]:
    """Return the environment that starts a subprocess's wall clock at now, steppable."""
    site = root / "clock-site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return {
        "PYTHONPATH": str(site),
        "DIGEST_TEST_NOW": now,
        "DIGEST_TEST_CLOCK": str(root / "clock-steps"),
    }


def step_clock(root: Path, seconds: float) -> None:
    """Shift the wall clock of the subprocesses started with clock_env(root) by seconds."""
    with (root / "clock-steps").open("a", encoding="utf-8") as f:
        f.write(f"{seconds}\n")


class ServeProcess:
    """`digest serve -c CONFIG ARGS` with its stderr in a log file; ports read from the log."""

    def __init__(
        self,
        config: Path,
        *args: str,
        env: dict[str, str] | None = None,
        nofile: int | None = None,
        name: str = "serve",
    ) -> None:
        self.log = config.parent / f"{name}.log"
        cmd = [sys.executable, "-m", "digest", "serve", "-c", str(config), *args]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}

        def limit() -> None:  # as a unit without LimitNOFILE= gets (1,024), scaled down
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        with self.log.open("wb") as err:
            self.p = subprocess.Popen(
                cmd,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**clean, **(env or {})},
                preexec_fn=limit,
            )
        self.wait_for(r"event=start ")

    def text(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text())
            if found:
                return found
            if self.p.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} in:\n{self.text()}")

    def port(self, which: str) -> int:
        """Return the port of 'site' (--http) or 'health' (--health-port)."""
        return int(self.wait_for(rf"event={which} host=\S+ port=(\d+)").group(1))

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.p.pid}/fd"))

    def peak_memory_kb(self) -> int:
        status = Path(f"/proc/{self.p.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]

    def stop(self) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(30)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait(10)
