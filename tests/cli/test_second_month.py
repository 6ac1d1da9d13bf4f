"""The operator's second month: what `digest` says after re-runs, bounces, upgrades and
opt-outs, through the real command on SQLite, a loopback SMTP server and the outbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from digestcli import AS_OF, cli, emls, run, write_config
from smtpserver import SmtpServer, free_port

from digest.store import MIGRATIONS

LATER = "2018-10-27T09:00:00Z"  # the same period as AS_OF (07:00), two hours on
BOUNCE = "550 5.1.1 mailbox unavailable"


def _smtp(port: int) -> str:
    return f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 5.0\n'


def _status(config: Path) -> str:
    done = cli("status", "-c", str(config), "--data-dir", str(config.parent / "data"))
    assert done.returncode == 0, done.stderr
    return done.stdout


def _reports(server: SmtpServer) -> list[bytes]:
    return [m.content for m in server.handler.messages if "ops@example.org" in m.rcpt_tos]


# -- 5 and 6: a delivery error named once, and an earlier one not reported as this run's ----


def test_a_bounce_is_named_once_and_a_rerun_does_not_report_it_again(tmp_path: Path) -> None:
    server = SmtpServer(tmp_path, mode="none").start()
    server.handler.rcpt_replies["b@example.org"] = BOUNCE
    try:
        config = write_config(tmp_path, 'report_to = "ops@example.org"', top=_smtp(server.port))
        out = str(tmp_path / "out")
        first = run(config, "--as-of", AS_OF, "--out", out, "-q")
        again = run(config, "--as-of", LATER, "--out", out, "-q")
        loud = run(config, "--as-of", LATER, "--out", out)
    finally:
        server.stop()
    assert first.returncode == 1
    assert first.stderr.splitlines() == [f"digest: morning: deliver: b@example.org: {BOUNCE}"]
    # The re-run tried nothing: the 550 is the first run's, so no failure, no second report.
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert len(_reports(server)) == 1
    assert loud.returncode == 0, loud.stderr
    assert "  already failed at " in loud.stdout and f"b@example.org: {BOUNCE}" in loud.stdout
    assert server.handler.count("a@example.org") == 1


def test_a_rerun_before_the_retry_is_due_does_not_repeat_a_stale_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens yet: every message waits in retry
    config = write_config(tmp_path, 'report_to = "ops@example.org"', top=_smtp(port))
    out = str(tmp_path / "out")
    first = run(config, "--as-of", AS_OF, "--out", out, "-q")
    server = SmtpServer(tmp_path, port=port, mode="none").start()  # the server is back
    try:
        again = run(config, "--as-of", LATER, "--out", out, "-q")
        loud = run(config, "--as-of", LATER, "--out", out)
    finally:
        server.stop()
    assert first.returncode == 1 and "all 2 messages wait in retry" in first.stderr
    # Nothing was tried (the retry is not due): no failure, and no stale report mailed.
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert _reports(server) == []
    assert "waiting in retry since an earlier try at " in loud.stdout
    assert ": 2 messages (a@example.org, b@example.org)" in loud.stdout


# -- 7: what a period delivered, across its runs ---------------------------------------------


def test_status_shows_what_a_period_delivered_across_its_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    out = str(tmp_path / "out")
    assert run(config, "--as-of", AS_OF, "--out", out, "-q").returncode == 0
    assert run(config, "--as-of", LATER, "--out", out, "-q").returncode == 0  # a manual re-run
    assert len(emls(tmp_path)) == 2
    status = _status(config)
    assert "    mail: delivered to 2 of 2 recipients" in status, status


# -- 11: an address that bounces every day is suspended, reported and resumed ---------------


def _day(n: int) -> str:
    return f"2018-10-{26 + n}T07:00:00Z"


def test_an_address_bouncing_three_periods_in_a_row_is_suspended_until_resumed(
    tmp_path: Path,
) -> None:
    server = SmtpServer(tmp_path, mode="none").start()
    server.handler.rcpt_replies["b@example.org"] = BOUNCE
    tried: list[str] = []
    server.handler.on_rcpt = tried.append
    lines = 'report_to = "ops@example.org"\nsend_empty = true'
    config = write_config(tmp_path, lines, top=_smtp(server.port))
    out = str(tmp_path / "out")
    data = str(tmp_path / "data")
    try:
        days = [run(config, "--as-of", _day(n), "--out", out, "-q") for n in (1, 2, 3)]
        rerun = run(config, "--as-of", _day(3), "--out", out, "-q")
        status = _status(config)
        listed = cli("subscribers", "list", "-c", str(config), "--data-dir", data)
        tried.clear()
        fourth = run(config, "--as-of", _day(4), "--out", out)
        skipped = list(tried)
        resumed = cli(
            "subscribers", "resume", "b@example.org", "-c", str(config), "--data-dir", data
        )
        fifth = run(config, "--as-of", _day(5), "--out", out, "-q")
    finally:
        server.stop()
    assert [d.returncode for d in days] == [1, 1, 1]
    assert "suspended" not in days[1].stderr
    assert days[2].stderr.splitlines() == [
        f"digest: morning: deliver: b@example.org: {BOUNCE}; suspended after 3 permanent "
        "failures in a row: `digest subscribers resume b@example.org` sends to it again"
    ]
    assert b"suspended after 3 permanent failures" in _reports(server)[2].replace(b"=\r\n", b"")
    assert rerun.returncode == 0, rerun.stderr
    assert "suspended after permanent failures: 1\n  b@example.org since " in status
    assert "\tb@example.org\tsuspended\t" in listed.stdout
    # Suspended: not tried, no failure, named in the report.
    assert fourth.returncode == 0, fourth.stderr
    assert "b@example.org" not in skipped and "a@example.org" in skipped
    assert "  not sent to b@example.org: suspended since " in fourth.stdout
    assert resumed.returncode == 0, resumed.stderr
    assert fifth.returncode == 1 and "suspended" not in fifth.stderr  # tried again: 1 in a row


# -- 8: unsubscribe --undo after a one-click opt-out; an address that receives nothing ------


def test_undo_forgets_a_one_click_opt_out_and_a_stranger_is_refused(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from digest.store import open_store

    config = write_config(tmp_path)
    data = tmp_path / "data"
    store = open_store(f"sqlite:///{data / 'digest.sqlite3'}")
    store.opt_out("morning", "B@example.org", "one-click", datetime(2026, 12, 1, tzinfo=UTC))
    store.close()
    args = ("-c", str(config), "--data-dir", str(data))
    undone = cli("unsubscribe", "--undo", "b@example.org", *args)
    assert undone.returncode == 0, undone.stderr
    assert undone.stdout == (
        "b@example.org: subscribed again to digest morning (unsubscribed by one-click "
        "2026-12-01 00:00 UTC)\n"
    )
    assert "unsubscribed: 0" in _status(config)
    stranger = cli("unsubscribe", "bob@exmaple.org", *args)
    assert stranger.returncode == 2
    assert stranger.stderr.startswith(
        "error: unsubscribe: bob@exmaple.org is not a recipient of any digest in "
    )
    assert "unsubscribed: 0" in _status(config)


# -- 18: --as-of never writes into the service's database unless told to -------------------


def test_as_of_works_on_a_copy_unless_in_place_or_given_a_data_dir(tmp_path: Path) -> None:
    server = SmtpServer(tmp_path, mode="none").start()
    config = write_config(tmp_path, top=_smtp(server.port))
    data = tmp_path / "data"
    # DIGEST_DATA_DIR as the systemd unit sets it; copies go under TMPDIR.
    env = {"DIGEST_DATA_DIR": str(data), "TMPDIR": str(tmp_path)}
    future = "2030-01-01T07:00:00Z"
    try:
        assert cli("fetch", "-c", str(config), "-q", env=env).returncode == 0  # a real pass
        ran = cli("run", "-c", str(config), "--as-of", AS_OF, env=env)
        fetched = cli("fetch", "-c", str(config), "--as-of", future, "-q", env=env)
        status = cli("status", "-c", str(config), env=env).stdout
        listed = cli("feeds", "list", "-c", str(config), env=env).stdout
        sent_by_copy = len(server.handler.messages)
        in_place = cli("run", "-c", str(config), "--as-of", AS_OF, "--in-place", "-q", env=env)
    finally:
        server.stop()
    assert ran.returncode == 0 and fetched.returncode == 0, ran.stderr + fetched.stderr
    copy = ran.stderr.split("working on a copy of ")[1].split(" in ")[1].split(":")[0]
    assert f"{data / 'digest.sqlite3'} in " in ran.stderr and "no mail is sent" in ran.stderr
    assert Path(copy) != data and len(list(Path(copy, "outbox").glob("*.eml"))) == 2
    # The service's database: no period recorded, no feed dated 2030, nobody mailed.
    assert "last run: none yet" in status, status
    assert "2030" not in listed and sent_by_copy == 0
    assert in_place.returncode == 0, in_place.stderr
    assert "last run: 2018-10-27T07:00+0000 done" in _status_env(config, env)
    assert server.handler.count("a@example.org") == 1


def _status_env(config: Path, env: dict[str, str]) -> str:
    done = cli("status", "-c", str(config), env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- 1: an HTML-only recipient is not told of an attachment it does not get ----------------


def test_an_html_only_recipient_is_not_told_a_pdf_is_attached(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(
        config.read_text().replace(
            'recipients = ["a@example.org", "b@example.org"]',
            'recipients = ["a@example.org", { address = "h@example.org", formats = ["html"] }]',
        )
    )
    assert run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out")).returncode == 0
    by_to = {m["To"]: m for m in emls(tmp_path)}
    said = "attached as a PDF"
    html_only = by_to["h@example.org"]
    assert [p.get_content_type() for p in html_only.iter_attachments()] == []
    for part in ("plain", "html"):
        assert said not in html_only.get_body((part,)).get_content()  # type: ignore[union-attr]
    with_pdf = by_to["a@example.org"]
    assert [p.get_content_type() for p in with_pdf.iter_attachments()] == ["application/pdf"]
    assert said in with_pdf.get_body(("plain",)).get_content()  # type: ignore[union-attr]


# -- 2: an item without a date, fetched by the run itself, is in that run's digest ----------


def test_an_undated_item_fetched_by_the_run_is_in_its_digest(tmp_path: Path) -> None:
    from httpserver import LoopbackServer, Reply

    undated = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
        "<link>https://example.org/</link><item><title>Harbour bridge reopens after repairs"
        "</title><link>https://example.org/bridge</link><guid>bridge</guid><description>The "
        "harbour bridge reopened on Monday after two years of repairs, the city said."
        "</description></item></channel></rss>"
    )
    with LoopbackServer() as server:
        server.routes["/undated.xml"] = Reply(200, undated.encode())
        feed = f'\n[[feed]]\nurl = "{server.url("/undated.xml")}"\nfull_text = "never"\n'
        config = write_config(tmp_path, feeds=feed)
        ran = run(config, "--out", str(tmp_path / "out"))
    assert ran.returncode == 0, ran.stderr
    assert "morning [" in ran.stdout and ": 1 event from 1 article" in ran.stdout, ran.stdout
    (text,) = (tmp_path / "out").glob("*.txt")
    assert "Harbour bridge reopens" in text.read_text(encoding="utf-8")


# -- 3: a site worth publishing ------------------------------------------------------------


def test_the_site_names_periods_by_their_time_and_leaves_out_the_subscribers_lines(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, 'unsubscribe = "mailto:unsub@example.org"')
    site = tmp_path / "site"
    out = str(tmp_path / "out")
    # Built at 17:01 and 17:05: the periods are the 07:00 ones of two days.
    for at in ("2018-10-26T17:01:00Z", "2018-10-27T17:05:00Z"):
        ran = run(config, "--as-of", at, "--since", "3d", "--out", out, "--site", str(site))
        assert ran.returncode == 0, ran.stderr
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "Sat 27 Oct 2018, 07:00" in index and "Fri 26 Oct 2018, 07:00" in index
    assert "17:0" not in index
    assert "· 2 issues</p>" in index  # not the stories of every period added up
    assert 'href="morning/calendar.ics"' in index
    page = (site / "morning" / "2018-10-27-0700.html").read_text(encoding="utf-8")
    assert "You receive this digest because you subscribed" not in page
    assert "unsub@example.org" not in page and 'href="calendar.ics"' in page
    (mail,) = [m for m in emls(tmp_path) if m["To"] == "a@example.org"][-1:]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "You receive this digest because you subscribed" in html  # the email keeps it


# -- 10: a disabled feed is named by each digest run, not silent ---------------------------


def test_a_disabled_feed_is_named_by_every_digest_run(tmp_path: Path) -> None:
    from httpserver import LoopbackServer, Reply

    with LoopbackServer() as server:
        server.routes["/gone.xml"] = Reply(404, b"not found")
        gone = server.url("/gone.xml")
        config = write_config(tmp_path, feeds=f'\n[[feed]]\nurl = "{gone}"\nname = "Gone"\n')
        config.write_text(
            config.read_text().replace("allow_private", "max_errors = 1\nallow_private")
        )
        data = str(tmp_path / "data")
        fetched = cli("fetch", "-c", str(config), "--data-dir", data, "-q")
        ran = run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out"), "-q")
        listed = cli("feeds", "list", "-c", str(config), "--data-dir", data)
    assert fetched.returncode == 1 and "HTTP 404" in fetched.stderr
    # The run did not try it, yet its readers are told a source is missing: so is the operator.
    assert ran.returncode == 1
    assert ran.stderr.splitlines() == [
        f"digest: morning: fetch: {gone}: disabled after 1 failed fetch in a row (last: HTTP "
        f"404); `digest feeds enable {gone}` fetches it again"
    ]
    (row,) = [line.split("\t") for line in listed.stdout.splitlines() if gone in line]
    assert row[3:6][0] == "disabled" and row[5] == "never (disabled)"


# -- 12: help that says what the command does ----------------------------------------------


def _help(*command: str) -> str:
    done = cli(*command, "--help", env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


def test_help_texts_say_what_each_command_and_argument_does() -> None:
    assert "and the [llm] endpoint" in _help("doctor")  # markup ate "[llm]"
    assert "Fetch the feeds that are due (every feed with --force)" in _help("fetch")
    assert "every configured feed" not in _help("fetch")
    for command in (("run",), ("fetch",), ("feeds", "list")):
        assert "<bool>" not in _help(*command)
    assert "local" not in _help("feeds", "add")  # `feeds add` refuses local files
    for command in ("remove", "enable"):
        text = _help("feeds", command)
        assert "Feed URL, as `digest feeds list` shows it." in text and "home page" not in text


# -- 13: an unreadable config is one line, from every command ------------------------------


NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture
def shared() -> Iterator[Path]:
    """Yield a new folder another user may enter (pytest's are root's, 0700), as root with
    setpriv and a Python the unprivileged user can run; skip otherwise."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run digest as another user")
    if subprocess.run([*NOBODY, sys.executable, "-c", "import digest"], check=False).returncode:
        pytest.skip("the unprivileged user cannot run this Python")
    folder = Path(tempfile.mkdtemp(prefix="digest-shared-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def as_nobody(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `digest ARGS` as the unprivileged user, in folder."""
    command = [*NOBODY, sys.executable, "-m", "digest", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, cwd=folder
    )


def test_an_unreadable_config_is_one_line_and_exit_2(shared: Path) -> None:
    config = shared / "digest.toml"
    config.write_text('[[digest]]\nname = "m"\nfeeds = ["builtin:samples"]\n', encoding="utf-8")
    config.chmod(0o600)  # root's; the folder is readable, the file is not
    for command in (("serve",), ("status",), ("run", "--no-send")):
        done = as_nobody(shared, *command, "-c", str(config), "--data-dir", str(shared / "d"))
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr == (
            f"error: config: {config}: cannot read: [Errno 13] Permission denied: '{config}'\n"
        ), command


# -- 15: fixing the config ends a feed's backoff -------------------------------------------


def test_a_changed_fetch_setting_tries_a_feed_backing_off_at_once(tmp_path: Path) -> None:
    from httpserver import LoopbackServer, Reply, rss

    with LoopbackServer() as server:
        story = ("Bridge opens in Berlin", "https://example.org/b", "The bridge opened today.")
        server.routes["/news.xml"] = Reply(200, rss([story]))
        feed = f'\n[[feed]]\nurl = "{server.url("/news.xml")}"\nfull_text = "never"\n'
        config = write_config(tmp_path, feeds=feed)
        fixed = config.read_text()
        config.write_text(fixed.replace('allow_private = ["127.0.0.0/8"]', ""))  # the mistake
        data = str(tmp_path / "data")
        refused = cli("fetch", "-c", str(config), "--data-dir", data, "-q")
        config.write_text(fixed)  # the fix
        ran = run(config, "--as-of", "2026-11-24T12:00:00Z", "--out", str(tmp_path / "out"))
    assert refused.returncode == 1 and "private" in refused.stderr, refused.stderr
    assert ran.returncode == 0, ran.stderr
    assert "(2 feeds, 0 failed, 0 waiting)" in ran.stdout, ran.stdout
    assert ": 1 event from 1 article" in ran.stdout
    assert server.paths().count("/news.xml") == 1


# -- 17: status and deliveries read a database this user may not write ---------------------


def test_status_and_deliveries_read_a_database_they_may_not_write(shared: Path) -> None:
    config = write_config(shared)
    assert run(config, "--as-of", AS_OF, "--out", str(shared / "out"), "-q").returncode == 0
    for path in shared.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by all, writable by root
    for command in ("status", "deliveries", "feeds list", "subscribers list"):
        args = (*command.split(), "-c", str(config), "--data-dir", str(shared / "data"))
        done = as_nobody(shared, *args)
        assert done.returncode == 0, (command, done.stderr)
        if command == "status":
            assert "last run: 2018-10-27T07:00+0000 done" in done.stdout
            assert "mail: delivered to 2 of 2 recipients" in done.stdout
        if command == "deliveries":
            assert done.stdout.count("\twritten\t") == 2


# -- 9: a version to upgrade to, `digest migrate` and an old database read -----------------


def _as_schema_5(db: Path) -> None:
    """Turn a database back into what 0.1.0 left (schema 5), with a report 0.1.0 wrote."""
    import json
    import sqlite3

    old_report = {
        "digest": "morning",
        "period": "2018-10-27T07:00+0000",
        "counts": {"events": 6, "articles": 6, "delivered": 2, "removed by exclude x": 1},
        "failures": ["deliver: b@example.org: deliver: b@example.org: 550 no such user"],
        "timings": {"events": 0.5},
        "outputs": [],
        "deliveries": [],
        "skipped": None,
        "notes": [],
    }
    with sqlite3.connect(db) as conn:
        for table in ("bounces", "recipient_tokens", "llm_runs"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("ALTER TABLE feeds DROP COLUMN settings_key")
        conn.execute("ALTER TABLE articles DROP COLUMN outlet")
        conn.execute("DELETE FROM schema_version WHERE version > 5")
        conn.execute("UPDATE runs SET report = ?", (json.dumps(old_report),))
    conn.close()


def test_an_upgrade_migrates_after_a_backup_and_reads_the_old_reports(tmp_path: Path) -> None:
    import sqlite3

    version = cli("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("digest 0.2.0 (database schema ")
    config = write_config(tmp_path)
    data = tmp_path / "data"
    args = ("-c", str(config), "--data-dir", str(data))
    assert run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out"), "-q").returncode == 0
    db = data / "digest.sqlite3"
    _as_schema_5(db)
    migrated = cli("migrate", *args)
    again = cli("migrate", *args)
    status = _status(config)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines() == [
        f"copied the database (schema 5) to {db}.schema-5.bak",
        f"database schema 5 -> {len(MIGRATIONS)}: ready for digest 0.2.0",
    ]
    with sqlite3.connect(f"{db}.schema-5.bak") as backup:
        assert backup.execute("SELECT max(version) FROM schema_version").fetchone() == (5,)
    backup.close()
    assert again.stdout == f"database schema {len(MIGRATIONS)}: up to date for digest 0.2.0\n"
    # The report 0.1.0 stored: its counts and its failure, read.
    assert "last run: 2018-10-27T07:00+0000 done at " in status
    assert ": 6 events from 6 articles, 1 failure" in status
    assert "    failed: deliver: b@example.org: deliver: b@example.org: 550 no such user" in status
    assert "    mail: delivered to 2 of 2 recipients" in status  # from the ledger


# -- 20: the cosmetic ones an operator noticed ---------------------------------------------


def test_two_issues_of_one_day_have_different_subjects(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'title = "Wire"\nschedule = "0 7,19 * * *"\nsend_empty = true')
    out = str(tmp_path / "out")
    for at in ("2018-10-27T07:00:00Z", "2018-10-27T19:00:00Z"):
        assert run(config, "--as-of", at, "--since", "2d", "--out", out, "-q").returncode == 0
    subjects = sorted({m["Subject"].split(":")[0] for m in emls(tmp_path)})
    assert subjects == ["Wire, 27 Oct 2018, 07", "Wire, 27 Oct 2018, 19"], subjects


def test_run_output_counts_in_the_singular_and_says_already_once(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(
        config.read_text().replace(
            'recipients = ["a@example.org", "b@example.org"]',
            "recipients = [" + ", ".join(f'"r{i}@example.org"' for i in range(50)) + "]",
        )
    )
    out = str(tmp_path / "out")
    assert run(config, "--as-of", AS_OF, "--out", out, "-q").returncode == 0
    again = run(config, "--as-of", LATER, "--out", out)
    assert again.returncode == 0, again.stderr
    assert " articles (1 feed, 0 failed, 0 waiting)" in again.stdout
    already = [line for line in again.stdout.splitlines() if "already written" in line]
    assert len(already) == 1 and already[0].endswith(
        ": 50 messages (r0@example.org, r1@example.org, r2@example.org and 47 more)"
    ), already


def test_no_pdf_page_opens_with_a_storys_facts_cut_from_it(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (Debian package poppler-utils)")
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo.toml"
    labels = ("People", "Organisations", "Places", "Dates", "Sources")
    labels += ("Люди", "Организации", "Места", "Даты", "Источники")
    for name, as_of in (("briefing", "2018-10-27T07:00:00+00:00"), ("svodka", AS_OF_RU)):
        done = cli(
            "run", "-c", str(demo), "--data-dir", str(tmp_path / "data"), "--no-send",
            "--out", str(tmp_path), "--site", str(tmp_path / "site"), "-d", name,
            "--as-of", as_of, "-q",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (pdf,) = tmp_path.glob(f"{name}-*.pdf")
        pages = int(subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                   check=True).stdout.split("Pages:")[1].split()[0])  # fmt: skip
        assert pages > 1
        for page in range(2, pages + 1):
            text = subprocess.run(
                ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            first = [line.strip() for line in text.splitlines() if line.strip()][1]
            assert not first.startswith(labels), (name, page, first)


AS_OF_RU = "2019-11-19T09:00:00+03:00"
