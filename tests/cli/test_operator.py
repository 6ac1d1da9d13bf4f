"""The operator's path: cron output, exit codes, honest reports, empty periods,
period naming and failures for the right reader, through `digest` run as a subprocess on
real SQLite, loopback HTTP and the outbox."""

from __future__ import annotations

from pathlib import Path

from digestcli import AS_OF, cli, emls, run, write_config
from httpserver import LoopbackServer, Reply, rss

# -- defect 3 and 9: cron output and one exit-code rule ------------------------------------


def test_quiet_prints_nothing_when_nothing_failed(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    data = str(tmp_path / "data")
    fetched = cli("fetch", "-c", str(config), "--data-dir", data, "--as-of", AS_OF, "-q")
    assert (fetched.returncode, fetched.stdout, fetched.stderr) == (0, "", "")
    ran = run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out"), "-q")
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")
    assert len(emls(tmp_path)) == 2  # it did send, quietly
    built = cli("build", "-c", str(config), "--data-dir", data, "--as-of", AS_OF, "-q")
    assert (built.returncode, built.stdout, built.stderr) == (0, "", "")


def test_a_feed_backing_off_is_counted_apart_and_is_no_failure_of_this_run(
    tmp_path: Path,
) -> None:
    with LoopbackServer() as server:
        server.routes["/gone.xml"] = Reply(404, b"not found")
        gone = server.url("/gone.xml")
        config = write_config(tmp_path, feeds=f'\n[[feed]]\nurl = "{gone}"\nname = "Gone"\n')
        data = str(tmp_path / "data")
        first = cli("fetch", "-c", str(config), "--data-dir", data, "-q")
        # The failure of this run: exit 1, named on stderr, nothing on stdout.
        assert first.returncode == 1 and first.stdout == ""
        assert first.stderr.strip() == f"digest: fetch: {gone}: HTTP 404"
        second = cli("fetch", "-c", str(config), "--data-dir", data)
        third = cli("fetch", "-c", str(config), "--data-dir", data, "-q")
    assert server.paths().count("/gone.xml") == 1  # the later passes left it alone
    # Backing off: no failure of this run (exit 0), counted and named apart.
    assert second.returncode == 0, second.stderr
    assert "(0 failed, 1 waiting after earlier errors" in second.stdout
    assert f"waiting: {gone}: next try " in second.stdout and "HTTP 404" in second.stdout
    assert (third.returncode, third.stdout, third.stderr) == (0, "", "")


# -- defect 4: no mail for an empty period -------------------------------------------------


def test_an_empty_period_is_not_mailed_unless_send_empty(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    empty_day = "2018-11-20T07:00:00Z"  # weeks after the sample's stories
    ran = run(config, "--as-of", empty_day, "--out", str(tmp_path / "out"))
    assert ran.returncode == 0, ran.stderr
    assert "no mail: no new stories in this period (send_empty = false)" in ran.stdout
    assert emls(tmp_path) == []
    config.write_text(config.read_text().replace("[[digest]]\n", "[[digest]]\nsend_empty = true\n"))
    again = run(config, "--as-of", "2018-11-21T07:00:00Z", "--out", str(tmp_path / "out"))
    assert again.returncode == 0, again.stderr
    assert [m["To"] for m in emls(tmp_path)] == ["a@example.org", "b@example.org"]


# -- defect 5: "already sent at" --------------------------------------------------------------


def test_a_second_run_says_already_written_not_written(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    first = run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert first.returncode == 0, first.stderr
    assert "  written: a@example.org -> " in first.stdout
    second = run(config, "--as-of", "2018-10-27T09:00:00Z", "--out", str(tmp_path / "out"))
    assert second.returncode == 0, second.stderr
    assert "  written: " not in second.stdout
    # One line for the messages an earlier run wrote, not one per recipient.
    (line,) = [x for x in second.stdout.splitlines() if "already written at " in x]
    assert line.endswith(" UTC: 2 messages (a@example.org, b@example.org)"), line
    assert len(emls(tmp_path)) == 2


# -- defect 8: named by the period being built ---------------------------------------------


def test_a_run_before_the_schedule_is_named_by_the_period_it_builds(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.routes["/news.xml"] = Reply(
            200, rss([("Bridge opens in Berlin", "https://example.org/b", "The bridge opened.")])
        )
        feed = f'\n[[feed]]\nurl = "{server.url("/news.xml")}"\nfull_text = "never"\n'
        config = write_config(
            tmp_path, 'title = "Morning"\ntimezone = "Europe/Berlin"\nschedule = "0 7 * * *"', feed
        )
        out = tmp_path / "out"
        # 04:44 in Berlin, before the 07:00 schedule: the period is yesterday's 07:00 one.
        ran = run(
            config, "--as-of", "2026-11-30T04:44:00+01:00", "--since", "7d", "--out", str(out)
        )
    assert ran.returncode == 0, ran.stderr
    assert "morning [2026-11-29T07:00+0100]" in ran.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "morning-2026-11-29.html",
        "morning-2026-11-29.pdf",
        "morning-2026-11-29.txt",
    ]
    message = emls(tmp_path)[0]
    assert message["Subject"].startswith("Morning, 29 Nov 2026")
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "morning-2026-11-29.pdf"
    assert "Sunday, 29 November 2026" in (out / "morning-2026-11-29.txt").read_text("utf-8")


# -- defect 10: failures for the right reader -----------------------------------------------


def test_report_to_gets_the_names_and_errors_subscribers_only_a_count(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.routes["/gone.xml"] = Reply(404, b"not found")
        gone = server.url("/gone.xml")
        config = write_config(
            tmp_path,
            'report_to = "ops@example.org"',
            feeds=f'\n[[feed]]\nurl = "{gone}"\nname = "Gone"\n',
        )
        ran = run(config, "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert ran.returncode == 1
    assert f"digest: morning: fetch: {gone}: HTTP 404" in ran.stderr
    assert "failures reported to " in ran.stdout
    by_to = {m["To"]: m for m in emls(tmp_path)}
    assert sorted(by_to) == ["a@example.org", "b@example.org", "ops@example.org"]
    report = by_to["ops@example.org"].get_content()
    assert f"fetch: {gone}: HTTP 404" in report
    body = by_to["a@example.org"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "1 of 2 sources could not be reached" in " ".join(body.split())
    assert gone not in body and "404" not in body
