# Two commands do all the set-up on a fresh machine:
#   make run   - creates .venv, initialises the embedded store and keystore, serves on :8088
#   make test  - creates .venv and runs the whole test suite (layer contracts included)
#   make test-fast - the suite without the real back-ends and server processes (markers postgres, softhsm, slow)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-fast bench init status lint clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/keymanager serve

init: $(STAMP)
	$(BIN)/keymanager init

status: $(STAMP)
	$(BIN)/keymanager status

# Layer contracts, style and bug patterns (ruff), types (mypy); make test runs it first.
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP)
	bash tests/support/ensure_postgres.sh
	bash tests/support/ensure_softhsm.sh
	bash tests/support/ensure_wrk.sh
	bash tests/support/ensure_chromium.sh
	bash tests/support/ensure_tpm.sh
	bash tests/support/ensure_poppler.sh
	bash tests/support/ensure_jdk.sh
	$(MAKE) lint
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not postgres and not softhsm and not slow"

bench: $(STAMP)
	$(BIN)/python -m bench

.PHONY: bench-http
bench-http: $(STAMP)
	bash tests/support/ensure_wrk.sh
	$(BIN)/python -m bench.http $(BENCH_HTTP_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
