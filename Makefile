# The two commands a newcomer needs:
#   make run    install, migrate the database, load the demo data once, serve on http://127.0.0.1:5000
#   make test   install, run the whole test suite (SQLite; set TEST_DATABASE_URL for PostgreSQL)
# Needs GNU make and python3 >= 3.11 (Debian: apt-get install python3 python3-venv make).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-stamp
INTEROP_INSTALLED := tests/interop/node_modules/.installed-stamp

HOST ?= 127.0.0.1
PORT ?= 5000
# Links in emails point at the address `make run` serves on (unless set in the environment).
BOOKING_BASE_URL ?= http://$(HOST):$(PORT)
export BOOKING_BASE_URL
PYTEST_ARGS ?=
# The suite runs on every core (pytest-xdist), each test file on one worker so that it starts its
# browser once; `make test JOBS=0` runs it in one process.
JOBS ?= auto

# Local runs use the development configuration: a SQLite file in instance/ and a dev-only
# SECRET_KEY (config.py). Set DATABASE_URL or SECRET_KEY in the environment to override.
FLASK := BOOKING_CONFIG=development $(BIN)/flask --app wsgi

SERVER := $(FLASK) run --host $(HOST) --port $(PORT)
# The mail worker runs beside the server and stops with it. Without MAIL_SERVER it writes every
# email to instance/sent-mail.mbox instead of sending it. `make run BACKGROUND=` serves alone.
BACKGROUND ?= $(FLASK) booking worker --interval 3

.PHONY: install translations screenshots run db-upgrade demo-data serve test system-packages messages bench clean

install: $(INSTALLED)

# Re-installs only when pyproject.toml changed since the last install.
$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

# The catalogues (booking/translations/<lang>/LC_MESSAGES/messages.po) compiled to the .mo files
# the app reads; each is compiled again when its .po changed.
CATALOGUES := $(wildcard booking/translations/*/LC_MESSAGES/messages.po)
translations: $(CATALOGUES:.po=.mo)

booking/translations/%/LC_MESSAGES/messages.mo: booking/translations/%/LC_MESSAGES/messages.po $(INSTALLED)
	$(BIN)/pybabel compile -i $< -o $@

# Serve in the foreground; BACKGROUND commands run beside it and are stopped with it.
serve_with_background = set -e; $(BACKGROUND) & background_pid=$$!; \
	trap 'kill $$background_pid 2>/dev/null || true' EXIT INT TERM; $(SERVER)
define serve_recipe
	@echo "Booking runs on http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	$(if $(strip $(BACKGROUND)),$(serve_with_background),$(SERVER))
endef

run: demo-data
	$(serve_recipe)

# Serve without migrating or loading anything.
serve: install translations
	$(serve_recipe)

db-upgrade: install translations
	$(FLASK) db upgrade

# Loads the demo data only into a database without seminars, so a second `make run` keeps your data.
demo-data: db-upgrade
	$(FLASK) booking seed-demo --if-empty

# ical.js (Thunderbird's parser) for tests/test_calendar_interop.py; re-installs only when the
# lock file changed. libical comes from Debian: apt-get install gir1.2-ical-3.0 python3-gi.
$(INTEROP_INSTALLED): tests/interop/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --prefix tests/interop --no-audit --no-fund
	@touch $@

# Chromium, libical, node/npm and Redis for the suite: installed (and Redis started) when missing.
system-packages:
	@bash .ci/system-packages

# TEST_DATABASE_URL passes through from the environment (or `make test TEST_DATABASE_URL=...`).
test: system-packages install translations $(INTEROP_INSTALLED)
	$(BIN)/pytest -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

# The benchmark (bench/README.md): the app against a bare Flask "hello" under the same gunicorn
# settings, the registration rush, the mail worker; prints a table with issue #19's targets.
# SQLite by default; BENCH_DATABASE_URL (an empty database of its own) runs it on PostgreSQL.
# `make bench BENCH_ARGS=--quick` is a short smoke run. wrk (Debian package) is installed when missing;
# without it the Python client loads the pages.
BENCH_ARGS ?=
bench: install translations
	@command -v wrk >/dev/null || { echo "wrk is missing; installing it (apt-get install wrk)"; \
		if [ "$$(id -u)" -eq 0 ]; then apt-get install -y -q wrk; else sudo apt-get install -y -q wrk; fi \
		|| echo "wrk could not be installed: the Python client loads the pages instead"; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The README's screenshots, into docs/screenshots/ (demo data in a throw-away database).
screenshots: system-packages install translations
	$(BIN)/python docs/screenshots.py

# Every user-facing string, from code, pages and emails, into the template (messages.pot) and from
# there into each language's catalogue: new and changed strings arrive untranslated.
# tests/test_languages_catalogues.py fails until each of them is translated.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file -w 120 -o booking/translations/messages.pot .
	$(BIN)/pybabel update -i booking/translations/messages.pot -d booking/translations -w 120 --ignore-obsolete --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache build *.egg-info tests/interop/node_modules booking/translations/*/LC_MESSAGES/*.mo
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
