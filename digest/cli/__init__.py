"""The command line (Typer): `digest run`, `build`, `fetch`, `serve`, `feeds`, `eval`, ...

Thin: each command reads the settings, calls the pipeline or a stage's entry point, and
prints the report. `main` is the console script.
"""

from digest.cli.main import main

__all__ = ["main"]
