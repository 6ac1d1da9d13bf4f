"""`digest deliveries`, `digest resend` and `digest doctor`: the delivery ledger and SMTP checks."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.table import Table

from digest import deliver, events
from digest.cli.common import (
    EXIT_FAILED,
    ConfigOption,
    DataDirOption,
    console,
    fail,
    is_terminal,
    load,
    new_app,
    store_for,
)
from digest.errors import DigestError, LockError, StoreError
from digest.models import wall_clock
from digest.store import LedgerRow, ledger, run_lock

app = new_app()

STATUSES = ("pending", "retry", "sent", "written", "failed", "unknown")


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _shown_status(row: LedgerRow) -> str:
    # 'sending' outside a running process means the outcome is unknown (see digest/deliver/send.py).
    return "unknown" if row.status == "sending" else row.status


@app.command("deliveries")
def deliveries(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    digest: Annotated[str | None, typer.Option("--digest", "-d", help="Only this digest.")] = None,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", help=f"Only these statuses ({', '.join(STATUSES)})."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many.")] = 50,
) -> None:
    """List deliveries, newest first, with status, attempts and the last error."""
    wanted = list(status or [])
    for s in wanted:
        if s not in STATUSES:
            fail(f"--status {s!r}: expected one of {', '.join(STATUSES)}")
    settings = load(config, data_dir)
    store = store_for(settings, reading=True)
    statuses = ["sending" if s == "unknown" else s for s in wanted]
    rows = ledger.listing(store, digest=digest, statuses=statuses, limit=limit)
    store.close()
    lines = [
        (
            str(r.id), r.digest, r.period_key, r.recipient, _shown_status(r),
            str(r.attempts), _when(r.next_attempt_at) if r.status in ledger.DUE else "-",
            r.error or r.path or "",
        )
        for r in rows
    ]  # fmt: skip
    if not is_terminal():
        for line in lines:  # plain tab-separated lines for scripts and logs
            typer.echo("\t".join(line))
        return
    if not lines:
        console.print("no deliveries", markup=False)
        return
    table = Table(
        "id", "digest", "period", "recipient", "status", "tries", "next try", "error/path"
    )
    for line in lines:
        table.add_row(*line)
    console.print(table)


@app.command("resend")
def resend(
    delivery_id: Annotated[
        int | None, typer.Argument(help="Delivery id (see `digest deliveries`).")
    ] = None,
    digest: Annotated[str | None, typer.Option("--digest", "-d", help="Digest name.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Period key of the run.")] = None,
    recipient: Annotated[str | None, typer.Option("--recipient", "-r", help="Address.")] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Send one delivery again on purpose (same content, new Message-ID)."""
    by_key = (digest, period, recipient)
    if delivery_id is None and not all(by_key):
        fail("give a delivery id, or all of --digest, --period and --recipient")
    if delivery_id is not None and any(by_key):
        fail("give a delivery id or --digest/--period/--recipient, not both")
    settings = load(config, data_dir)
    store = store_for(settings)
    try:
        # Under the run lock: a `digest run` or `digest serve` sending the same row meanwhile
        # would otherwise race this resend.
        with run_lock(settings):
            if delivery_id is None:
                row = ledger.find_by(store, str(digest), str(period), str(recipient))
                if row is None:
                    fail(f"resend: no delivery of {digest} {period} to {recipient}")
                delivery_id = row.id
            result = deliver.resend_delivery(store, settings, delivery_id, wall_clock())
    except LockError as exc:
        fail(f"{exc} (another digest run or digest serve is using this database)", EXIT_FAILED)
    except StoreError:
        raise  # main() prints it and exits 2, as for every command
    except DigestError as exc:
        fail(str(exc), EXIT_FAILED)
    finally:
        store.close()
    where = f" -> {result.path}" if result.path else ""
    console.print(f"{result.status}: {result.recipient}{where}", markup=False)
    if result.status not in ("sent", "written"):
        console.print(f"  {result.error}", markup=False)
        raise typer.Exit(EXIT_FAILED)


@app.command("doctor")
def doctor(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Check mail delivery (connect, TLS, log in) and the [llm] endpoint, printing each step."""
    settings = load(config, data_dir)
    if settings.smtp is None:
        folder = settings.maildir or settings.outbox_dir
        steps = [_check_folder(folder, "maildir" if settings.maildir else "outbox")]
    else:
        smtp = settings.smtp
        console.print(
            f"SMTP {smtp.host}:{smtp.port}, security = {smtp.security!r}, "
            f"user = {smtp.username or '-'}, from = {smtp.from_addr}",
            markup=False,
        )
        steps = deliver.doctor(smtp)
    if settings.llm is not None:
        with httpx.Client() as client:
            steps = [*steps, events.check_endpoint(settings.llm, client)]
    for name, ok, detail in steps:
        console.print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", markup=False)
    if not steps or not all(ok for _, ok, _ in steps):
        raise typer.Exit(EXIT_FAILED)


def _check_folder(folder: Path, name: str) -> tuple[str, bool, str]:
    """Return whether messages can be written into folder (no SMTP configured)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return name, False, f"cannot write to {folder}: {exc}"
    return name, True, f"no SMTP configured: messages are written to {folder}"
