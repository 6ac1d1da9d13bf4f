"""Options and helpers shared by the CLI's command modules (settings, store, exit codes)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from digest.config import Settings, load_settings
from digest.errors import DigestError
from digest.store import Store, can_write, open_store

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="DIGEST_CONFIG",
        help="Config file (TOML). Default: the bundled sample feeds.",
        # Read by load_settings, whose error is one line naming the file and the reason
        # (`error: config: FILE: cannot read: ...`), not a usage box.
        readable=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="DIGEST_DATA_DIR",
        help="Where the database and outbox live (default: the platform data dir).",
    ),
]

console = Console(stderr=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def new_app(**options: Any) -> typer.Typer:
    """Return a Typer app (or command group) with the help and errors every command shares.

    Help is plain text: Rich markup would eat "[llm]" and print "<bool>" beside each flag.
    """
    return typer.Typer(
        **{
            "no_args_is_help": True,
            "add_completion": False,
            "pretty_exceptions_enable": False,
            "rich_markup_mode": None,
            "context_settings": {"max_content_width": 100},
            **options,
        }
    )


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one error line to stderr and exit with code."""
    err_console.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def load(config: Path | None, data_dir: Path | None) -> Settings:
    """Return settings, or exit 2 with the config error's one line."""
    try:
        return load_settings(config, data_dir=data_dir)
    except DigestError as exc:
        fail(str(exc), EXIT_USAGE)


def store_for(settings: Settings, *, reading: bool = False) -> Store:
    """Return the opened store, or exit 2 naming the database that could not be opened.

    A command that only reads (`reading`) opens a database this user may not write (the
    service's, from an operator's own login) read-only instead of failing to migrate it.
    """
    try:
        read_only = reading and not can_write(settings.storage_url)
        return open_store(settings.storage_url, read_only=read_only)
    except DigestError as exc:
        fail(str(exc), EXIT_USAGE)


def is_terminal() -> bool:
    """Return True when stdout is a terminal (Rich progress), False for plain log lines."""
    return sys.stdout.isatty()
