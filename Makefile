# The commands in README.md. Each installs what it needs first, so a fresh clone needs only
# Python 3.11 (and, for `make test`, the PostgreSQL server at 127.0.0.1:5432).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck bench schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make run: the catalog server on its embedded SQLite database, loaded with the demo estate
## recorded from real Airflow, Prefect and Dagster servers. The database lives in this checkout
## (.cache/demo), so two checkouts never share one; `make run PORT=8010` picks another port.
PORT ?= 8000
run: install
	$(BIN)/tempox demo --port $(PORT) --state-dir .cache/demo

## make test: lint, type checks and the whole test suite (SQLite and PostgreSQL)
test: install lint typecheck
	bash scripts/ensure-postgres.sh
	$(BIN)/pytest -n auto --dist loadgroup -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

## make bench: the benchmarks in benchmarks/ (SCALE=1.0 is 1M runs; default is a quick run)
SCALE ?= 0.1
bench: install
	$(BIN)/python -m benchmarks --scale $(SCALE)

## make schema: re-export graphql/schema.graphql after changing the API
schema: install
	$(BIN)/tempox export-schema --output graphql/schema.graphql

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
