# Dystonia Clinic: `make run` serves the demo, `make test` runs every check.
# Everything is installed by these targets: a Python venv from requirements/lock.txt,
# front-end libraries from package-lock.json, and Debian's Chromium for browser tests.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTHON_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
NAME ?=
HOST ?= 127.0.0.1
PORT ?= 8000

# Production settings with throwaway values, for `check --deploy`.
DEPLOY_CHECK_ENV := DJANGO_SETTINGS_MODULE=clinic.settings.production \
	SECRET_KEY=deploy-check-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	ALLOWED_HOSTS=clinic.example.org

.PHONY: run test bench setup browser lint typecheck contracts deploy-check migrations-check \
	pytest pytest-postgres lock clean

run: setup ## Set up, migrate SQLite in var/, load demo data, serve on http://127.0.0.1:8000
	@mkdir -p var
	$(PY) manage.py migrate --no-input --verbosity 0
	$(PY) manage.py load_demo
	@echo ""
	@echo "Dystonia Clinic is running at http://$(HOST):$(PORT)/"
	@echo "Admin (sites, practitioners, services, stories, news): http://$(HOST):$(PORT)/admin/"
	@echo "Stop with Ctrl+C."
	$(PY) manage.py runserver $(HOST):$(PORT)

test: setup browser lint typecheck contracts deploy-check migrations-check pytest pytest-postgres ## Every check
	@echo "make test: all checks passed."

setup: $(PYTHON_STAMP) $(NODE_STAMP)

$(PYTHON_STAMP): requirements/lock.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

browser: ## Debian's Chromium, for the Playwright journeys
	@scripts/ensure-chromium.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy src

contracts:
	$(VENV)/bin/lint-imports

deploy-check:
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING

migrations-check:
	DJANGO_SETTINGS_MODULE=clinic.settings.test $(PY) manage.py makemigrations --check --dry-run

pytest: ## The whole suite on SQLite, browser journeys included, with line and branch coverage
	$(VENV)/bin/coverage run -m pytest
	$(VENV)/bin/coverage report

pytest-postgres: ## The suite again on PostgreSQL, when a server can be reached or started
	@scripts/pytest-postgres.sh

bench: setup ## Every benchmark under bench/ (NAME=x for one)
	$(PY) bench/run.py $(NAME)

lock: ## Re-resolve requirements/lock.txt from requirements/*.in
	rm -rf var/lockvenv && $(PYTHON) -m venv var/lockvenv
	var/lockvenv/bin/pip install --quiet -r requirements/dev.in
	{ echo "# Exact versions of every dependency (direct and transitive), for Python 3.11."; \
	  echo "# Regenerate with 'make lock' after editing requirements/base.in or dev.in."; \
	  var/lockvenv/bin/pip freeze --exclude-editable; } > requirements/lock.txt
	rm -rf var/lockvenv

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache test-artifacts
