# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browsers

.PHONY: install browsers demo test test-sqlite test-postgres bench i18n clean

browsers: $(BROWSER_STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: export HOINGHI_CONSOLE_CHANNEL = 1
demo: $(STAMP)
	$(BIN)/hoinghi init --non-interactive
	$(BIN)/hoinghi demo
	$(BIN)/hoinghi serve --host 127.0.0.1 --port 8000

# Browser tests use Debian's chromium (never a browser download) and ffmpeg (fake camera videos).
$(BROWSER_STAMP):
	@if ! command -v chromium >/dev/null || ! command -v ffmpeg >/dev/null; then \
		echo "Installing Debian's chromium and ffmpeg for the browser tests (once)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium ffmpeg; \
	fi
	touch $(BROWSER_STAMP)

# pytest runs once per database: the embedded SQLite default, then PostgreSQL.
test: $(STAMP) $(BROWSER_STAMP)
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP)
	@if [ "$$CI" = "true" ] || $(BIN)/python -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then \
		DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q $(PYTEST_ARGS); \
	else echo "PostgreSQL is not listening on 127.0.0.1:5432: PostgreSQL run skipped (CI=true never skips)"; fi

# Refresh web/locale/*/messages.po from the sources (then translate the new empty entries).
# A domain error's message, a Phrase and a Label (core/errors.py) are messages too
ERROR_KEYWORDS = $(foreach name,DomainError ValidationError NotFound Forbidden Conflict TooLarge NeedsConfirmation ImportFailed Phrase,-k $(name)) \
	-k Label:1,1t -k Label:1,2c,2t -k NotFoundException -k NotAuthorizedException

i18n: $(STAMP)
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k npgettext:1c,2,3 -k N_ $(ERROR_KEYWORDS) -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d web/locale -D messages --no-fuzzy-matching --ignore-obsolete

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var build *.egg-info
