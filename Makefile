# The two set-up commands of the README. Each makes its own virtual environment (.venv)
# on a fresh machine, so nothing has to be installed by hand first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test lint bench bench-serving bench-auth check-mlflow-client bench-drift drift-agreement bench-scheduler bench-alerts

# pip -qq: errors only. A plain --quiet still prints every warning, and an editable install
# prints a boxed setuptools BuildBackendWarning (plus, on machines whose pip config lists
# package folders that do not exist, one "Location ... is ignored" line per package): a
# wall of text a first-time user reads as failure. Errors still show, and make stops.
PIP_QUIET := -qq

$(BIN)/python:
	@echo "creating the virtual environment $(VENV) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install $(PIP_QUIET) --upgrade pip

install: $(BIN)/python
	@echo "installing Watchkeeper and its dependencies into $(VENV) (a few minutes the first time) ..."
	@$(BIN)/pip install $(PIP_QUIET) -e .

install-test: $(BIN)/python
	@echo "installing Watchkeeper with its test tools into $(VENV) (a few minutes the first time) ..."
	@$(BIN)/pip install $(PIP_QUIET) -e ".[test]"

## make demo: install, build the demo store from sample_models/ and open it
demo: install
	@$(BIN)/wk demo  # says what it builds, then a progress line per step

## make test: install with test extras, lint, check the import contracts and the types, run the whole suite
test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadfile

## make bench: start-up of each kind of command beside wk --help, and the console's first paint and refresh queries (figures go to bench/RESULTS.md by hand)
bench: install
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.console_paint

## make bench-alerts: one alert evaluation pass with 200 models and 2,000 rules on a store of
## 10 million logged predictions (beside its floor, the pass's grouped reads), and the time from a
## condition becoming true to the webhook through a real `wk scheduler` (beside a bare POST);
## builds and caches its store in bench/.data/ (about 7 minutes the first time), then 4 minutes
bench-alerts: install
	$(BIN)/python -m bench.alerts

## make bench-scheduler: the job daemon's idle CPU and memory with 50 jobs beside a bare APScheduler,
## one empty run's overhead beside a bare Python start and APScheduler's process pool, and runs a
## minute with 4 workers beside 4-way Python starts (about 7 minutes: the idle part is 5 of them)
bench-scheduler: install
	$(BIN)/python -m bench.scheduler

## make bench-serving: wk serve against mlflow models serve, and batch scoring against a bare
## sqlite3 insert (about 3 minutes; needs wrk, and makes bench/.venv-mlflow with MLflow from PyPI
## on first use, about a minute more). Kept out of `make bench`, which it would make 3-4 minutes
## longer and give it two needs it does not have: wrk and a package registry.
bench-serving: install
	@command -v wrk >/dev/null || { echo "bench-serving needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench.serving

## make bench-auth: wk serve with API tokens and rate limits on against --no-auth, both at once,
## at 1 and 16 connections (p50/p99/throughput and their ratios), the token check in
## process, and a token served beside one flooding past its limit (about 4 minutes; needs wrk)
bench-auth: install
	@command -v wrk >/dev/null || { echo "bench-auth needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench.serving_auth

## make check-mlflow-client: MLflow's own ScoringServerClient against `wk serve --model NAME`
## (a DataFrame with an extra column, and a CSV body); uses bench/.venv-mlflow, made on first use
check-mlflow-client: install
	$(BIN)/python -m bench.mlflow_client

## make bench-drift: Watchkeeper's drift check on 1,000,000 rows against a 100,000-row reference,
## beside Evidently's report (its default tests, and the same tests) and a plain scipy floor
## (about 4 minutes on a quiet machine, 17 under load 10; makes bench/.venv-peers with Evidently
## and NannyML from PyPI on first use, about five minutes more; caches its data in bench/.data/)
bench-drift: install
	$(BIN)/python -m bench.drift

## make drift-agreement: per-feature verdicts of Watchkeeper and Evidently (same tests and
## thresholds) on the sample scenarios and NannyML's car-loan data, and Watchkeeper's CBPE
## estimate beside NannyML's per chunk (uses bench/.venv-peers, made on first use)
drift-agreement: install
	$(BIN)/python -m bench.drift_agreement
