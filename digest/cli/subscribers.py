"""`digest unsubscribe` (record or, with --undo, forget an opt-out) and `digest subscribers`
(each digest's recipients and their state; `resume` lifts a suspension after bounces)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from digest.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    ConfigOption,
    DataDirOption,
    console,
    fail,
    is_terminal,
    load,
    new_app,
    store_for,
)
from digest.config import Settings
from digest.errors import ConfigError
from digest.models import wall_clock
from digest.store import ALL_DIGESTS, Bounces, OptOut, Store

app = new_app()
group = new_app()

AddressArg = Annotated[str, typer.Argument(help="The recipient's email address.")]
PLAIN_COLUMNS = ("digest", "address", "state", "since", "detail")


def _key(address: str) -> str:
    return address.strip().casefold()


def _digests_of(settings: Settings, address: str) -> list[str]:
    """Return the names of the digests that list address among their recipients."""
    return [
        d.name
        for d in settings.digests
        if any(_key(r.address) == _key(address) for r in d.recipients)
    ]


def _scope(o: OptOut) -> str:
    return "every digest" if o.digest == ALL_DIGESTS else f"digest {o.digest}"


@app.command("unsubscribe")
def unsubscribe(
    address: AddressArg,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    digest: Annotated[
        str | None, typer.Option("--digest", "-d", help="Only from this digest (default: all).")
    ] = None,
    undo: Annotated[
        bool,
        typer.Option(
            "--undo",
            help="Subscribe the address again: forget its opt-outs (every one, or -d NAME's).",
        ),
    ] = False,
) -> None:
    """Stop sending to an address (recorded in the database; `digest status` lists them)."""
    settings = load(config, data_dir)
    if digest is not None:
        try:
            settings.digest(digest)
        except ConfigError as exc:
            fail(str(exc))
    if "@" not in address:
        fail(f"unsubscribe: {address!r} is not an email address")
    store = store_for(settings)
    if undo:
        _undo(store, address, digest)
        raise typer.Exit(EXIT_OK)
    receives = _digests_of(settings, address)
    if not receives or (digest is not None and digest not in receives):
        # A typo here would leave the real address subscribed while saying it is not.
        where = f"digest {digest}" if digest else "any digest"
        fail(
            f"unsubscribe: {address} is not a recipient of {where} in "
            f"{settings.config_path or 'the built-in config'} (`digest subscribers list` "
            "shows who is)"
        )
    which = f"digest {digest}" if digest else "every digest"
    changed = store.opt_out(digest or ALL_DIGESTS, address, "cli", wall_clock())
    said = "unsubscribed from" if changed else "was already unsubscribed from"
    console.print(f"{address}: {said} {which}", markup=False)
    raise typer.Exit(EXIT_OK)


def _undo(store: Store, address: str, digest: str | None) -> None:
    """Forget the address's opt-outs (all of them, or one digest's) and say which."""
    if digest is None:
        gone = store.opt_in_everywhere(address)
    else:
        held = [o for o in store.opt_outs() if o.address == _key(address)]
        if any(o.digest == ALL_DIGESTS for o in held):
            fail(
                f"unsubscribe --undo: {address} is unsubscribed from every digest: "
                f"`digest unsubscribe --undo {address}` subscribes it again to all",
                EXIT_FAILED,
            )
        gone = tuple(o for o in held if o.digest == digest and store.opt_in(digest, address))
    for o in gone:
        console.print(
            f"{address}: subscribed again to {_scope(o)} (unsubscribed by {o.how} "
            f"{o.at:%Y-%m-%d %H:%M} UTC)",
            markup=False,
        )
    if not gone:
        which = f"digest {digest}" if digest else "any digest"
        console.print(f"{address}: was not unsubscribed from {which}", markup=False)


@group.command("list")
def list_subscribers(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """List each digest's recipients: active, unsubscribed or suspended after bounces."""
    settings = load(config, data_dir)
    store = store_for(settings, reading=True)
    opt_outs = store.opt_outs()
    bounced = {b.address: b for b in store.bounced()}
    rows = []
    for d in settings.digests:
        for r in {_key(r.address): r for r in d.recipients}.values():
            held = [o for o in opt_outs if o.address == _key(r.address)]
            out = next((o for o in held if o.digest in (d.name, ALL_DIGESTS)), None)
            rows.append((d.name, r.address, *_state(out, bounced.get(_key(r.address)))))
    if not is_terminal():
        typer.echo("\t".join(PLAIN_COLUMNS))
        for row in rows:
            typer.echo("\t".join(row))
        return
    table = Table(*PLAIN_COLUMNS)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _state(out: OptOut | None, b: Bounces | None) -> tuple[str, str, str]:
    """Return (state, since, detail) of one recipient of one digest."""
    if out is not None:
        return "unsubscribed", _when(out.at), f"{out.how}, from {_scope(out)}"
    if b is not None and b.suspended_at is not None:
        detail = f"{b.failures} permanent failures in a row, last: {b.last_error}"
        return "suspended", _when(b.suspended_at), detail
    if b is not None:
        detail = f"{b.failures} permanent failures in a row, last: {b.last_error}"
        return "active", "-", detail
    return "active", "-", ""


def _when(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@group.command("resume")
def resume(
    address: AddressArg, config: ConfigOption = None, data_dir: DataDirOption = None
) -> None:
    """Send to an address suspended after repeated permanent failures again."""
    settings = load(config, data_dir)
    store = store_for(settings)
    if not store.resume(address):
        fail(f"subscribers resume: {address} is not suspended", EXIT_FAILED)
    console.print(f"{address}: resumed: the next run sends to it again", markup=False)
    raise typer.Exit(EXIT_OK)
