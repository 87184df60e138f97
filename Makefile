# Two commands matter: `make run` (the app with demo data) and `make test` (the suite).
# Everything else is a building block they use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONUNBUFFERED := 1

.PHONY: run test install lint format check bench clean e2e

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependency lists change.
$(VENV)/.installed: pyproject.toml $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: $(VENV)/.installed node_modules/.package-lock.json

# HOST and PORT go to every step: in development the settings derive SITE_URL (links in
# emails, the demo sign-in link) from them unless SITE_URL is set.
run: install
	$(PY) manage.py migrate --no-input
	HOST=$(HOST) PORT=$(PORT) $(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "  Pipeline CRM is starting on http://$(HOST):$(PORT)/  (web, Celery worker and beat)"
	@echo "  Demo logins: admin, manager1, rep1 (password demo-pass-2026); more are listed above"
	@echo "  on the first run. Stop everything with Ctrl+C."
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start -f Procfile.dev

test: install check
	$(BIN)/pytest $(PYTEST_ARGS)

check: install
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=check-deploy-only-0123456789-abcdefghijklmnopqrstuvwxyz-0123 \
		ALLOWED_HOSTS=crm.example.com $(PY) manage.py check --deploy --fail-level WARNING

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

e2e: install
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles var db.sqlite3 db.sqlite3-wal db.sqlite3-shm
