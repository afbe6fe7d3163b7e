# The two set-up commands of the README. Each makes its own virtual environment (.venv)
# on a fresh machine, so nothing has to be installed by hand first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test lint bench bench-serving check-mlflow-client

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

## make demo: install, build the demo store from sample_models/ and open it
demo: install
	$(BIN)/wk demo

## make test: install with test extras, lint, check the import contracts and the types, run the whole suite
test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

## make bench: CLI start-up and console first paint (figures go to bench/RESULTS.md by hand)
bench: install
	$(BIN)/python -m bench.cli_startup
	$(BIN)/python -m bench.console_paint

## make bench-serving: wk serve against mlflow models serve, and batch scoring against a bare
## sqlite3 insert (about 3 minutes; needs wrk, and makes bench/.venv-mlflow with MLflow from PyPI
## on first use, about a minute more). Kept out of `make bench`, which it would make 3-4 minutes
## longer and give it two needs it does not have: wrk and a package registry.
bench-serving: install
	@command -v wrk >/dev/null || { echo "bench-serving needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench.serving

## make check-mlflow-client: MLflow's own ScoringServerClient against `wk serve --model NAME`
## (a DataFrame with an extra column, and a CSV body); uses bench/.venv-mlflow, made on first use
check-mlflow-client: install
	$(BIN)/python -m bench.mlflow_client
