"""digest: scheduled news digests from RSS/Atom feeds, as PDF and HTML email."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

# MAJOR.MINOR.PATCH, bumped for every release (docs/operating.md, "Versions and upgrades"):
# a release that migrates the database or changes the config is a new MINOR at least.
# CHANGELOG.md's first entry names this version and the database schema it brings.
__version__ = "0.2.0"


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """Return a package's __getattr__ (PEP 562) importing each public name's module on first use.

    A stage's __init__ exports its entry points, but a command needs few stages: `digest
    fetch` loading the renderer, the mailer and the scheduler at start was a third of a
    warm pass. homes maps a name to the module defining it; a name that is also
    a submodule's must be imported eagerly instead, since loading a submodule binds its
    name on the package.
    """

    def attribute(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(home)
        value = module if home == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    return attribute
