"""`digest unsubscribe`: record (or with --undo, forget) that an address wants no more mail."""

from __future__ import annotations

from typing import Annotated

import typer

from digest.cli.common import EXIT_OK, ConfigOption, DataDirOption, console, fail, load, store_for
from digest.errors import ConfigError
from digest.models import wall_clock
from digest.store import ALL_DIGESTS

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.command("unsubscribe")
def unsubscribe(
    address: Annotated[str, typer.Argument(help="The recipient's email address.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    digest: Annotated[
        str | None, typer.Option("--digest", "-d", help="Only from this digest (default: all).")
    ] = None,
    undo: Annotated[
        bool, typer.Option("--undo", help="Subscribe the address again (forget the opt-out).")
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
    scope = digest or ALL_DIGESTS
    which = f"digest {digest}" if digest else "every digest"
    if undo:
        changed = store.opt_in(scope, address)
        said = "subscribed again to" if changed else "was not unsubscribed from"
    else:
        changed = store.opt_out(scope, address, "cli", wall_clock())
        said = "unsubscribed from" if changed else "was already unsubscribed from"
    console.print(f"{address}: {said} {which}", markup=False)
    raise typer.Exit(EXIT_OK)
