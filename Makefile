# Dialogue citoyen — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
# make run's ports: the web (PORT) and the local mail sink (MAIL_PORT, where the app sends);
# links in emails follow PORT unless BASE_URL is given.
PORT      ?= 5000
MAIL_PORT ?= 1025
BASE_URL  ?= http://127.0.0.1:$(PORT)
DEV    := DIALOGUE_ENV=development PATH="$(CURDIR)/$(BIN):$$PATH"
RUN    := $(DEV) PORT=$(PORT) MAIL_PORT=$(MAIL_PORT) BASE_URL=$(BASE_URL)

.PHONY: run test test-faults test-api-schema install translations messages lint lock clean bench \
	bench-import bench-mailing bench-charter bench-synthesis bench-evaluation bench-report bench-load

## run: install, migrate, load the demo data, start web + worker + beat + mail sink
run: install translations
	$(RUN) flask --app wsgi db upgrade
	$(RUN) flask --app wsgi demo load
	@echo "Dialogue citoyen on $(BASE_URL)/admin/ — emails at $(BASE_URL)/admin/mail/ (Ctrl-C stops everything)"
	$(RUN) honcho start -f Procfile.dev

## test: the whole suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set, else SQLite)
test: install translations
	$(BIN)/python -m pytest

## test-faults: the fault suite on private PostgreSQL, Redis and SMTP processes that it kills
## and restarts (a worker SIGKILLed, Redis and PostgreSQL restarted, the relay deferring)
test-faults: install translations
	$(BIN)/python -m pytest -m fault tests/faults

## test-api-schema: Schemathesis over /api/v1/openapi.json alone (also part of `make test`);
## SCHEMATHESIS_MAX_EXAMPLES (default 30 per operation) and SCHEMATHESIS_SEED explore further
test-api-schema: install translations
	$(BIN)/python -m pytest tests/web/api_schema

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,synthesis]'
	rm -f $(VENV)/.installed-*
	touch $@

translations: install
	$(BIN)/pybabel -q compile -d backoffice/translations

## messages: extract the message ids and update the French catalog (then translate it)
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _L -k lazy_gettext --no-location \
		--sort-output --project "Dialogue citoyen" -o backoffice/translations/messages.pot .
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i backoffice/translations/messages.pot \
		-d backoffice/translations

## lock: refresh constraints.txt from the newest releases allowed by pyproject.toml
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -e '.[dev,run,synthesis]'
	(head -2 constraints.txt; .venv-lock/bin/pip freeze --exclude-editable | grep -v '^-e') > constraints.new
	mv constraints.new constraints.txt && rm -rf .venv-lock

## bench: the benchmarks of bench/ (figures printed, nothing asserted)
bench: bench-import bench-mailing bench-charter bench-synthesis bench-evaluation bench-report bench-load

bench-import: install translations
	cd bench && PYTHONPATH=$(CURDIR) DIALOGUE_ENV=development ../$(BIN)/python import_contributions.py

bench-mailing: install translations
	cd bench && PYTHONPATH=$(CURDIR) DIALOGUE_ENV=development ../$(BIN)/python mailing.py

## bench-charter: the charter's sweep and the weekly digest, on PostgreSQL (BENCH_DATABASE_URL,
## default postgresql://postgres@127.0.0.1:5432/bench_charter, created when missing, wiped)
bench-charter: install translations
	cd bench && PYTHONPATH=$(CURDIR) DIALOGUE_ENV=development ../$(BIN)/python charter.py

## bench-synthesis: a synthesis of 100,000 contributions on PostgreSQL (BENCH_DATABASE_URL,
## default postgresql://postgres@127.0.0.1:5432/bench_synthesis, created when missing, wiped),
## then the themes against the Grand Débat's crowd categories (NMI)
bench-synthesis: install translations
	cd bench && PYTHONPATH=$(CURDIR) DIALOGUE_ENV=development ../$(BIN)/python synthesis.py

## bench-evaluation: the evaluation of a démarche of 1,000 then of 100,000 contributions on
## PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/bench_evaluation,
## created when missing, wiped): time and SQL statements, the same at both sizes
bench-evaluation: install translations
	cd bench && PYTHONPATH=$(CURDIR) DIALOGUE_ENV=development ../$(BIN)/python evaluation.py

## bench-report: the yearly report over 100 then 10,000 démarches on PostgreSQL
## (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/bench_report, created
## when missing, wiped): the same number of statements at both sizes, and the times
bench-report: install translations
	cd bench && PYTHONPATH=$(CURDIR) DIALOGUE_ENV=development ../$(BIN)/python report.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance .pytest_cache

## bench-load: gunicorn (2 workers) on PostgreSQL and Redis under wrk (50 connections, loopback):
## public pages, comments, API lists; requests/s and p50/p95/p99 (DURATION seconds a scenario)
bench-load: install translations
	cd bench && PYTHONPATH=$(CURDIR) DIALOGUE_ENV=development ../$(BIN)/python load.py
