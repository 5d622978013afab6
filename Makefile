# The two commands: `make run` (embedded: SQLite, no services) and `make test`.
# `make run` serves the site and the MCP server (/mcp) from one uvicorn process (docs/assistants.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PRODUCTS ?= 200

.PHONY: run test install install-dev worker beat lint format migrations-check bench bench-quick bench-quality fuzz sdk screenshots soak clean

# `make run` needs only the runtime requirements; the test, lint and fuzz tools (most of the install
# time) come with the first target that uses them.
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	touch $(BIN)/activate

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

# `make run PORT=8001` serves elsewhere (HOST=0.0.0.0 for other machines).
run: install
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py seed_demo --products $(DEMO_PRODUCTS) --base-url http://$(HOST):$(PORT)
	$(BIN)/python manage.py mcp_http --with-django --host $(HOST) --port $(PORT)

test: install-dev lint migrations-check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install-dev
	$(BIN)/python manage.py makemigrations --check --dry-run -v0

worker: install
	$(BIN)/celery -A config worker -l info --concurrency 2

beat: install
	$(BIN)/celery -A config beat -l info --schedule var/celerybeat-schedule

# PostgreSQL and Redis on 127.0.0.1 (DATABASE_URL / REDIS_URL override the bench defaults); writes docs/benchmarks.md.
# The HTTP part runs on demo shops of BENCH_SIZES products, one database each (<DATABASE_URL>_<size> after the
# first): the first run seeds them, later runs reuse them. 1,000,000 products took 35 minutes on 2 cores with the
# earlier direct-write generator (not re-timed since the demo writes through the sync, which takes 20 s for
# 10,000 products, about 1.1 times the direct writer).
BENCH_SIZES ?= 100000 1000000
bench: install-dev
	$(BIN)/python bench/run.py --products $(BENCH_SIZES) $(BENCH_ARGS)

bench-quick: install-dev
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)

# Category suggestion and "similar product" precision on the real shop data in ../shared/data/realdata
# (through the public API; needs DATABASE_URL, REDIS_URL recommended); writes its section of docs/benchmarks.md.
bench-quality: install-dev
	$(BIN)/python bench/catalog_quality.py $(BENCH_ARGS)

# Schema fuzzing (schemathesis) of every surface on a live demo server; needs DATABASE_URL and REDIS_URL.
# FUZZ_CHECKS=all adds the data-acceptance checks.
FUZZ_MAX_EXAMPLES ?= 100
fuzz: install-dev
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) $(BIN)/python -m pytest -q tests/contracts/test_fuzz.py

# Generate a Python client per surface with openapi-python-client and drive a live demo server with it.
sdk: install-dev
	$(BIN)/python -m pytest -q tests/contracts/test_sdk.py

# Screenshots of the landing page and the admin overview for docs/quickstart.md (headless Chromium, live demo
# server; needs DATABASE_URL and REDIS_URL like fuzz).
screenshots: install-dev
	DOCS_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q tests/contracts/test_docs_render.py -k screenshots

# Load soak (not CI): mixed traffic on the four surfaces with a worker sorting and repricing; see docs/reliability.md.
SOAK_MINUTES ?= 10
soak: install-dev
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
