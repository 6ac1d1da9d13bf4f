"""PNG previews of a rendered digest: PDF pages via pdftoppm, the email via headless Chromium.

These are for people to look at (`make demo` writes them to out/) and for the visual tests.
Missing binaries are not an error here: the previews that can be made are made.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

from digest.errors import RenderError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """Return the path of a Chromium-like browser, or None when none is installed."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def pdf_to_pngs(pdf_path: Path, out_dir: Path, *, dpi: int = 60) -> list[Path]:
    """Return the PNG files pdftoppm wrote for each page of pdf_path, in page order."""
    if shutil.which("pdftoppm") is None:
        raise RenderError("preview", "pdftoppm not found (Debian package poppler-utils)")
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / f"{pdf_path.stem}-page"
    for old in out_dir.glob(f"{prefix.name}-*.png"):
        old.unlink()
    cmd = ["pdftoppm", "-png", "-r", str(dpi), str(pdf_path), str(prefix)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RenderError("preview", f"{pdf_path}: pdftoppm failed: {result.stderr.strip()}")
    # pdftoppm pads page numbers to the width of the page count; sort numerically.
    pages = list(out_dir.glob(f"{prefix.name}-*.png"))
    return sorted(pages, key=lambda p: int(p.stem.rsplit("-", 1)[1]))


# How tall a whole-page screenshot may be: headless Chromium has no "full page" switch, so
# the window is this tall and the blank page background below the content is cut off after.
FULL_PAGE_MAX = 16384


def screenshot_html(
    html_path: Path,
    png_path: Path,
    *,
    width: int = 600,
    height: int | None = None,
    dark: bool = False,
) -> Path:
    """Return png_path after headless Chromium saved a screenshot of the page, width wide and
    height tall (None: the whole page, up to FULL_PAGE_MAX pixels).

    dark=True asks for prefers-color-scheme: dark, as a mail client in dark mode would.
    """
    browser = find_chromium()
    if browser is None:
        raise RenderError("preview", "chromium not found (Debian package chromium)")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="digest-chromium-") as profile:
        cmd = [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png_path.resolve()}",
            f"--window-size={width},{height or FULL_PAGE_MAX}",
            *(["--blink-settings=preferredColorScheme=0"] if dark else []),
            html_path.resolve().as_uri(),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=90, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RenderError("preview", f"{html_path}: chromium timed out") from exc
    if not png_path.is_file():
        raise RenderError("preview", f"{html_path}: chromium wrote no screenshot")
    if height is None:
        _trim_bottom(png_path)
    return png_path


def _trim_bottom(png_path: Path, margin: int = 24) -> None:
    """Cut the page background below the content off a screenshot (keeping a margin)."""
    with Image.open(png_path) as shot:
        image = shot.convert("RGB")
    background = image.getpixel((0, image.height - 1))
    box = ImageChops.difference(image, Image.new("RGB", image.size, background)).getbbox()
    if box is not None and box[3] + margin < image.height:
        image.crop((0, 0, image.width, box[3] + margin)).save(png_path)


def write_previews(pdf_path: Path, html_path: Path, out_dir: Path) -> list[Path]:
    """Return the PNG previews written to out_dir (PDF pages, then the email screenshot)."""
    written: list[Path] = []
    if pdf_path.is_file() and shutil.which("pdftoppm"):
        written += pdf_to_pngs(pdf_path, out_dir)
    if html_path.is_file() and find_chromium():
        written.append(screenshot_html(html_path, out_dir / f"{html_path.stem}-email.png"))
    return written
