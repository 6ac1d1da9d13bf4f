"""digest.events loads its modules on first use; every public name is still what it says."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import digest.events


def test_every_public_name_is_its_home_modules_object_after_all_modules_load() -> None:
    # Loading a submodule binds its name on the package; a public name must still be the
    # object its home module defines afterwards.
    for info in pkgutil.iter_modules(digest.events.__path__):
        importlib.import_module(f"digest.events.{info.name}")
    for name in digest.events.__all__:
        value = getattr(digest.events, name)
        assert not isinstance(value, types.ModuleType), name
        assert getattr(sys.modules[value.__module__], name) is value, name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        digest.events.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_fetching_does_not_import_clustering_scipy_or_trafilatura() -> None:
    # A warm `digest fetch` is mostly start-up: what only clustering, summaries or page
    # extraction need must not load with the fetch stage.
    code = (
        "import sys, digest.fetch\n"
        "print(sorted(m for m in ('scipy', 'trafilatura', 'digest.events.cluster',"
        " 'digest.events.llm', 'digest.events.summarize') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
