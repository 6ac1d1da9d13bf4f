"""User templates are data, not code: every template renders sandboxed, and the
placeholders of strings.toml are names only. Through the real command, too."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from badconfig import write_config
from factories import make_digest

from digest.config.settings import DigestSettings
from digest.errors import RenderError
from digest.models import Digest
from digest.render.outputs import render_digest


def settings_for(digest: Digest, templates_dir: Path) -> DigestSettings:
    base = DigestSettings(name=digest.name, title=digest.title, feeds=(), language="en")
    return replace(base, templates_dir=templates_dir)


def _payloads(proof: Path) -> list[str]:
    touch = f"touch {proof}"
    return [
        f"{{{{ cycler.__init__.__globals__.os.popen('{touch}').read() }}}}",
        f"{{{{ joiner.__init__.__globals__['os'].system('{touch}') }}}}",
        f"{{{{ lipsum.__globals__['os'].popen('{touch}').read() }}}}",
        "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}",
        "{{ digest.__class__.__init__.__globals__ }}",
    ]


@pytest.mark.parametrize("which", range(5))
def test_a_template_that_reaches_for_python_is_a_render_error_and_runs_nothing(
    tmp_path: Path, which: int
) -> None:
    proof = tmp_path / "ran"
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "subject.txt.j2").write_text(_payloads(proof)[which], encoding="utf-8")
    digest = make_digest("en", 2)
    with pytest.raises(RenderError) as err:
        render_digest(digest, settings_for(digest, templates), formats=("html",))
    assert str(err.value).startswith("render: subject.txt.j2: ")
    assert "unsafe" in str(err.value)
    assert not proof.exists()


@pytest.mark.parametrize(
    "label",
    ["{limit.__class__.__mro__}", "{limit[0]}", "{0}", "{size:>999999999}", "{size!r}", "{"],
)
def test_strings_toml_placeholders_are_names_only(tmp_path: Path, label: str) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    toml_label = label.replace("\\", "\\\\").replace('"', '\\"')
    (templates / "strings.toml").write_text(f'[en]\npdf_too_large = "{toml_label}"\n')
    digest = make_digest("en", 2)
    settings = replace(settings_for(digest, templates), attachment_limit=1)  # note the limit
    with pytest.raises(RenderError, match=r"^render: strings\.toml: pdf_too_large: "):
        render_digest(digest, settings, formats=("pdf", "html"))


def test_digest_build_reports_the_template_and_runs_nothing(tmp_path: Path) -> None:
    proof = tmp_path / "ran"
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "subject.txt.j2").write_text(_payloads(proof)[0], encoding="utf-8")
    config = write_config(tmp_path, "", 'templates_dir = "tpl"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "digest", "build", "-q", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "render: subject.txt.j2: access to attribute '__init__'" in done.stdout + done.stderr
    assert not proof.exists()


def test_a_deeply_nested_strings_toml_is_a_render_error(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "strings.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    digest = make_digest("en", 1)
    with pytest.raises(RenderError, match=r"strings\.toml: not valid TOML: nested too deeply"):
        render_digest(digest, settings_for(digest, templates), formats=("html",))
