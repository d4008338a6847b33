# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed

.PHONY: install demo test test-sqlite test-postgres bench clean

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

# pytest runs once per database: the embedded SQLite default, then PostgreSQL.
test: $(STAMP)
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP)
	@if [ "$$CI" = "true" ] || $(BIN)/python -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then \
		DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q $(PYTEST_ARGS); \
	else echo "PostgreSQL is not listening on 127.0.0.1:5432: PostgreSQL run skipped (CI=true never skips)"; fi

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var build *.egg-info
