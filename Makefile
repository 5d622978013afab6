# The two commands: `make run` (embedded: SQLite, no services) and `make test`.
# `make run` serves the site and the MCP server (/mcp) from one uvicorn process (docs/assistants.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PRODUCTS ?= 200

.PHONY: run test install worker beat lint format migrations-check bench bench-quick fuzz sdk soak clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate

run: install
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py seed_demo --products $(DEMO_PRODUCTS)
	$(BIN)/python manage.py mcp_http --with-django --host $(HOST) --port $(PORT)

test: install lint migrations-check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run -v0

worker: install
	$(BIN)/celery -A config worker -l info --concurrency 2

beat: install
	$(BIN)/celery -A config beat -l info --schedule var/celerybeat-schedule

# PostgreSQL and Redis on 127.0.0.1 (DATABASE_URL / REDIS_URL override the bench defaults); writes docs/benchmarks.md.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)

# Schema fuzzing (schemathesis) of every surface on a live demo server; needs DATABASE_URL and REDIS_URL.
# FUZZ_CHECKS=all adds the data-acceptance checks.
FUZZ_MAX_EXAMPLES ?= 100
fuzz: install
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) $(BIN)/python -m pytest -q tests/contracts/test_fuzz.py

# Generate a Python client per surface with openapi-python-client and drive a live demo server with it.
sdk: install
	$(BIN)/python -m pytest -q tests/contracts/test_sdk.py

# Load soak (not CI): mixed traffic on the four surfaces with a worker sorting and repricing; see docs/reliability.md.
SOAK_MINUTES ?= 10
soak: install
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
