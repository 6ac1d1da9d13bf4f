# digest: `make demo` builds the offline sample digest into out/; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages: pdftoppm/pdftotext for PDF previews and visual tests, Chromium for the
# email screenshot, DejaVu fonts for Chromium's rendering of the email, epubcheck (Java) for
# the EPUB test, and the PostgreSQL server the store, ledger and worker tests start a
# throwaway cluster of (Debian keeps initdb in /usr/lib/postgresql/N/bin, off PATH).
DEB_PACKAGES := poppler-utils chromium fonts-dejavu-core epubcheck postgresql
DEMO         := $(BIN)/digest run --config examples/demo.toml --data-dir out/.data --out out --site out/site

.PHONY: demo test lint typecheck unit system-deps bench wheel clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# The distribution was called "digest" before it became digest-news: drop the old name
	@# from an existing venv, or both would own bin/digest.
	$(BIN)/python -m pip uninstall -q -y digest 2>/dev/null || true
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Installs the Debian packages when they are missing (as root, as on CI); otherwise says what
# to install: the tests that need them are then skipped with that reason.
system-deps:
	@missing=""; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	command -v epubcheck >/dev/null 2>&1 || missing="$$missing epubcheck"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
	  || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: install$$missing (Debian) for PNG previews, the visual, EPUB and PostgreSQL tests"; fi; \
	fi

demo: $(STAMP) system-deps
	rm -rf out
	$(DEMO) --digest briefing --as-of 2018-10-27T07:00:00+00:00
	$(DEMO) --digest svodka --as-of 2019-11-19T09:00:00+03:00
	$(BIN)/digest preview out

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) system-deps
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/fetch.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/render.py

# The distribution (digest-news) as operators install it: dist/digest_news-*.whl, checked.
wheel: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --wheel --outdir dist .
	$(BIN)/check-wheel-contents dist/*.whl

clean:
	rm -rf out build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
