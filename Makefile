# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test serve worker bench soak fuzz install install-dev lint format migrate seed clean

run: install migrate seed
	$(BIN)/python manage.py create_demo_users
	@echo "Serving on http://127.0.0.1:$(PORT)/  (curators' admin: http://127.0.0.1:$(PORT)/admin/)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install-dev
	$(BIN)/pytest

# Production-like: DEBUG off, static files collected and served by whitenoise, gunicorn.
serve: install migrate
	bin/serve

# Runs queued tasks (archiving, link checks) and their retries; needs TASKS_REDIS_URL.
worker: install migrate
	$(BIN)/python manage.py rqworker default --with-scheduler

# The benchmark suite against a million generated events on PostgreSQL (minutes, not seconds).
bench: install-dev
	bin/bench

# Readers and curators under load while PostgreSQL restarts (a private cluster; a few minutes).
soak: install-dev
	bin/soak

# Schemathesis against the served API, from its OpenAPI schema (CI runs it too).
fuzz: install-dev
	bin/fuzz

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

migrate: install
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	$(BIN)/python manage.py load_seed

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install-dev
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
