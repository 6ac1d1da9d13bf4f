"""The package layout is a contract: stages import downwards, across packages only via __init__."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "digest"
TOP_LEVEL = {
    "__init__.py",
    "__main__.py",
    "pipeline.py",
    "models.py",
    "report.py",
    "errors.py",
    "files.py",
}


def _stage(module: Path) -> str | None:
    parts = module.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def _imported(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [n for n in names if n == "digest" or n.startswith("digest.")]


def test_top_level_holds_only_the_shared_modules() -> None:
    assert {p.name for p in PACKAGE.glob("*.py")} == TOP_LEVEL


def test_other_packages_import_a_stage_only_through_its_init() -> None:
    offenders = []
    for module in PACKAGE.rglob("*.py"):
        mine = _stage(module)
        for name in _imported(ast.parse(module.read_text(encoding="utf-8"))):
            parts = name.split(".")
            if len(parts) > 2 and parts[1] != mine and (PACKAGE / parts[1]).is_dir():
                offenders.append(f"{module.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_every_stage_init_documents_and_exports_its_entry_points() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{init} has no docstring"
        exported = [
            n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "__all__"
        ]  # type: ignore[attr-defined]
        assert exported, f"{init} has no __all__"


@pytest.mark.slow
def test_lint_imports_fails_when_a_layer_is_broken(tmp_path: Path) -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    shutil.copytree(PACKAGE, tmp_path / "digest", ignore=shutil.ignore_patterns("fonts", "feeds"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(lint), "--no-cache"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )

    assert run().returncode == 0
    text = tmp_path / "digest" / "text" / "language.py"
    text.write_text(text.read_text(encoding="utf-8") + "\nimport digest.render  # noqa\n")
    broken = run()
    assert broken.returncode != 0
    assert "digest.text.language -> digest.render" in broken.stdout


def test_the_version_is_one_and_the_changelog_names_it_with_its_schema() -> None:
    import re

    from digest import __version__
    from digest.store.schema import MIGRATIONS

    changes = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    top = re.search(r"^## (\d+\.\d+\.\d+) \(database schema (\d+)\)$", changes, re.M)
    assert top, "CHANGELOG.md: no '## X.Y.Z (database schema N)' entry"
    # A release that migrates the database is a new version: its entry says which schema.
    assert top.group(1) == __version__, "bump digest.__version__ with the changelog's entry"
    assert int(top.group(2)) == len(MIGRATIONS), (
        f"CHANGELOG.md: {top.group(1)} says schema {top.group(2)}, the code has "
        f"{len(MIGRATIONS)} migrations: add the new schema to the unreleased entry (a new "
        "version if the one named is released)"
    )
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
