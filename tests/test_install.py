"""The operator's path, as a user meets it: the wheel built, checked and installed into a fresh
venv outside the checkout with that venv's own pip; a digest built from there with a config in
another folder; and the systemd unit, verified and run as an unprivileged user on files laid
out by README.md's install steps.

Slow (a wheel build and a dependency install, about a minute from pip's cache) but part of
`make test`: these are the steps that broke for operators while every unit test passed.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest import __version__

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
UNIT = "digest.service"
CONFIG = """\
# A config in a folder of its own: only bundled feed lists, nothing relative to the checkout.
[[digest]]
name = "briefing"
title = "Morning Briefing"
feeds = ["builtin:samples"]
schedule = "0 7 * * *"
timezone = "UTC"
language = "en"
catch_up = "none"
recipients = [{ address = "reader@example.org", name = "Demo Reader" }]

[[digest]]
name = "svodka"
title = "Утренняя сводка"
feeds = ["builtin:samples"]
schedule = "0 9 * * *"
timezone = "Europe/Moscow"
language = "ru"
max_events = 8
catch_up = "none"
recipients = [{ address = "chitatel@example.org", language = "ru" }]
"""


def _run(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    # No trace of the checkout or of the test's own venv in the environment.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.pop("DIGEST_CONFIG", None)
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _nobody() -> tuple[str, str]:
    """Return the unprivileged user and its group: the stand-ins for the `digest` user."""
    user = pwd.getpwnam("nobody")
    return user.pw_name, grp.getgrgid(user.pw_gid).gr_name


def _as_nobody(args: list[str]) -> list[str]:
    user, group = _nobody()
    return [
        "setpriv",
        f"--reuid={user}",
        f"--regid={group}",
        "--clear-groups",
        "--no-new-privs",
        *args,
    ]


def _runs_as_nobody(python: str) -> bool:
    if os.geteuid() != 0 or shutil.which("setpriv") is None or not Path(python).exists():
        return False
    check = "import sys, venv, ensurepip; assert sys.version_info >= (3, 11)"
    return _run(_as_nobody([python, "-c", check]), Path("/")).returncode == 0


def _interpreter() -> str:
    """Return the Python to make the fresh venv with: this one's base interpreter, unless (as
    root) the unprivileged user cannot run it, e.g. under a 0700 /root; then a system one."""
    base = str(getattr(sys, "_base_executable", sys.executable))
    if os.geteuid() != 0 or _runs_as_nobody(base):
        return base
    return next(
        (p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if _runs_as_nobody(p)), base
    )


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    # Not pytest's tmp_path: its /tmp/pytest-of-root is 0700, and the unit test's user must
    # reach the venv and the config through here.
    path = Path(tempfile.mkdtemp(prefix="digest-install-"))
    path.chmod(0o755)
    yield path
    # rm -rf unlinks the venv's 14,000 files faster than shutil.rmtree (2.7 s against 7 s).
    if shutil.which("rm"):
        subprocess.run(["rm", "-rf", "--", str(path)], check=False, timeout=300)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel(root: Path) -> Path:
    src = root / "src"  # a copy, so the build leaves no build/ or egg-info in the checkout
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "out", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests"
    )
    shutil.copytree(REPO, src, symlinks=True, ignore=ignore)
    built = _run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"), "."], src
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (path,) = (root / "dist").glob("digest_news-*-py3-none-any.whl")
    return path


@pytest.fixture(scope="module")
def venv(root: Path, wheel: Path) -> Path:
    venv = root / "opt" / "digest"
    made = _run([_interpreter(), "-m", "venv", str(venv)], root)
    assert made.returncode == 0, made.stderr
    # The venv's own pip, as a user has it: not upgraded first. --no-compile only skips
    # writing .pyc files (numpy, scipy, ...); it resolves and installs the same.
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--no-compile"]
    installed = _run([*pip, str(wheel)], root, timeout=280)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def test_the_wheel_holds_the_package_data_and_passes_check_wheel_contents(wheel: Path) -> None:
    checked = _run([str(Path(sys.executable).parent / "check-wheel-contents"), str(wheel)], REPO)
    assert checked.returncode == 0 and checked.stdout.strip().endswith("OK"), checked.stdout
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "digest/templates/email.html.j2",
        "digest/templates/partials/facts.txt.j2",
        "digest/feeds/default.toml",
        "digest/feeds/samples/samples.toml",
        "digest/feeds/samples/LICENSES/CC-BY-4.0.txt",
        "digest/fonts/DejaVuSans.ttf",
        "digest/fonts/LICENSE",
        "digest/py.typed",
    ):
        assert name in names, name
    dist_info = f"{wheel.name.split('-')[0]}-{__version__}.dist-info"
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA")
    assert b"\nName: digest-news\n" in metadata
    assert b"\nRequires-Dist: lxml_html_clean" in metadata


def test_the_installed_wheel_builds_the_demo_from_a_config_elsewhere(
    root: Path, venv: Path
) -> None:
    bundled = _run([_interpreter(), "-c", "import ensurepip; print(ensurepip.version())"], root)
    assert _run([str(venv / "bin" / "pip"), "--version"], root).stdout.startswith(
        f"pip {bundled.stdout.strip()} "
    )
    elsewhere = root / "elsewhere"
    (elsewhere / "config").mkdir(parents=True)
    config = elsewhere / "config" / "digest.toml"
    config.write_text(CONFIG, encoding="utf-8")
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import digest; print(digest.__file__)"], elsewhere
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    digest = str(venv / "bin" / "digest")
    common = ["--config", str(config), "--out", "out", "-q"]
    for name, as_of in (
        ("briefing", "2018-10-27T07:00:00+00:00"),
        ("svodka", "2019-11-19T09:00:00+03:00"),
    ):
        # A data dir each: a run "as of" 2018 would store the 2019 items with a clamped
        # date and the 2019 run would then prune them, leaving an empty (unmailed) period.
        data = ["--data-dir", f"data-{name}"]
        ran = _run([digest, "run", *common, *data, "--digest", name, "--as-of", as_of], elsewhere)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        (pdf,) = (elsewhere / "out").glob(f"{name}-*.pdf")
        assert pdf.read_bytes().startswith(b"%PDF-")
        (text,) = (elsewhere / "out").glob(f"{name}-*.txt")
        title = "Morning Briefing" if name == "briefing" else "Утренняя сводка"
        assert text.read_text(encoding="utf-8").startswith(title)
    assert len(list(elsewhere.glob("data-*/outbox/*.eml"))) == 2


def test_no_install_step_fetches_the_pypi_project_named_digest() -> None:
    # "digest" on PyPI is another program whose `digest` command ExecStart would then run.
    for path in (
        REPO / "README.md",
        REPO / "docs" / "operating.md",
        REPO / "contrib" / UNIT,
        REPO / "Dockerfile",
    ):
        text = path.read_text(encoding="utf-8")
        targets = re.findall(r"pip install (?:-\S+ )*['\"]?([^\s'\"]+)", text)
        assert targets, path
        for target in targets:
            assert not re.match(r"digest($|\[|[=<>~])", target), f"{path.name}: {target}"


def _readme_install_steps() -> list[str]:
    text = (REPO / "docs" / "operating.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- systemd-install[^>]*-->\n```sh\n(.*?)```", text, re.S)
    assert block, (
        "docs/operating.md: the systemd install steps (marked systemd-install) are missing"
    )
    return [line for line in block.group(1).splitlines() if line.strip()]


def _unit(path: Path) -> dict[str, list[str]]:
    """Return a unit file's [Service] settings: each key with every value it was given."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.parametrize(
    ("unit", "instance"),
    [(UNIT, UNIT), ("digest-worker@.service", "digest-worker@1.service")],
)
def test_systemd_analyze_verifies_the_unit(
    root: Path, venv: Path, unit: str, instance: str
) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    folder = root / f"verify-{instance}"
    folder.mkdir()
    text = (REPO / "contrib" / unit).read_text(encoding="utf-8")
    assert "ExecStart=/opt/digest/bin/digest " in text
    # The unit's program as installed here: verify checks that ExecStart is executable.
    (folder / unit).write_text(text.replace("/opt/digest/", f"{venv.parent.parent}/opt/digest/"))
    if instance != unit:  # a template is verified as one of its instances
        (folder / instance).symlink_to(folder / unit)
    verified = _run(["systemd-analyze", "verify", str(folder / instance)], folder)
    assert verified.returncode == 0, verified.stderr
    assert unit not in verified.stderr, verified.stderr


SERVICE_CONFIG = """\
[[digest]]
name = "briefing"
feeds = ["feeds.toml"]
catch_up = "none"
recipients = ["reader@example.org"]
unsubscribe = "https://digest.example.org/unsubscribe?token={token}"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lay_out(root: Path, system: Path) -> None:
    """Run docs/operating.md's install steps with / at `system` and `nobody` as the digest user."""
    checkout = root / "checkout"
    (checkout / "contrib").mkdir(parents=True)
    shutil.copy(REPO / "contrib" / UNIT, checkout / "contrib" / UNIT)
    # The operator's config folder: a feed list named relative to the config, and one-click
    # unsubscribe links, whose {token} needs DIGEST_UNSUBSCRIBE_SECRET from the env file.
    (checkout / "config").mkdir()
    (checkout / "config" / "digest.toml").write_text(SERVICE_CONFIG, encoding="utf-8")
    (checkout / "config" / "feeds.toml").write_text(
        '[[feed]]\nurl = "world-wire.xml"\nfull_text = "never"\n', encoding="utf-8"
    )
    sample = REPO / "digest" / "feeds" / "samples" / "world-wire.xml"
    shutil.copy(sample, checkout / "config" / "world-wire.xml")
    (system / "etc" / "systemd" / "system").mkdir(parents=True)
    user, group = _nobody()
    kept = []
    for line in _readme_install_steps():
        # Users, the program (the venv fixture installed the wheel) and systemctl are the
        # machine's business; every file step runs, with its paths under the temporary root.
        if line.split()[0] in ("useradd", "python3", "systemctl") or "/bin/pip " in line:
            continue
        line = line.replace(" /etc/", f" {system}/etc/").replace(" /var/", f" {system}/var/")
        line = re.sub(r"-g digest\b", f"-g {group}", re.sub(r"-o digest\b", f"-o {user}", line))
        kept.append(re.sub(r":digest\b", f":{group}", line))
    assert kept, "docs/operating.md: no file steps in the systemd install steps"
    laid = _run(["bash", "-euo", "pipefail", "-c", "\n".join(kept)], checkout)
    assert laid.returncode == 0, laid.stderr


def test_the_units_execstart_reads_the_config_as_an_unprivileged_user(
    root: Path, venv: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the steps chown files and the service runs as `nobody`")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    if not _runs_as_nobody(str(venv / "bin" / "python")):
        pytest.skip("no Python >= 3.11 on this machine that `nobody` may run")
    system = root / "system"
    _lay_out(root, system)
    unit = _unit(system / "etc" / "systemd" / "system" / UNIT)
    assert unit["User"] == ["digest"] and unit["Group"] == ["digest"]
    user, group = _nobody()
    # What systemd does before ExecStart: the state directory for the service's user, the
    # environment from Environment= and (read as root) EnvironmentFile=.
    state = system / "var" / "lib" / unit["StateDirectory"][0]
    state.mkdir(parents=True)
    shutil.chown(state, user, group)
    state.chmod(int(unit["StateDirectoryMode"][0], 8))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(state)}
    for value in unit["Environment"]:
        for item in shlex.split(value):
            key, _, val = item.partition("=")
            env[key] = re.sub(r"^/(etc|var)/", f"{system}/\\1/", val)
    env_file = Path(f"{system}{unit['EnvironmentFile'][0].lstrip('-')}")
    for line in env_file.read_text(encoding="utf-8").splitlines():
        key, _, val = line.partition("=")
        env[key] = val
    argv = shlex.split(unit["ExecStart"][0])
    assert argv[0] == "/opt/digest/bin/digest"
    argv[0] = str(venv / "bin" / "digest")
    port = _free_port()  # not the unit's 8790: other tests (or a real service) may hold it
    argv[argv.index("--health-port") + 1] = str(port)
    log = root / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(_as_nobody(argv), env=env, cwd="/", stdout=out, stderr=out)
        try:
            _wait_for_health(proc, port, log)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=90)
    output = log.read_text(encoding="utf-8")
    assert code == 0, output
    assert "Permission denied" not in output
    assert (state / "digest.sqlite3").is_file()


def _wait_for_health(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"digest serve exited {proc.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # 503 before the first fetch pass: still running on its config
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no answer on /healthz within 60 s: {log.read_text()}")
