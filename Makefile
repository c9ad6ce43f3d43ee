# The whole set-up on a fresh machine: `make run` or `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# The full stack's services (docker-compose.yml runs the same ones).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run test lint format pdf-deps system-deps check-services bench bench-peer load simulate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Embedded default: SQLite and a filesystem broker, no server needed.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	$(PY) manage.py render_documents
	@echo ""
	@echo "Portal: http://127.0.0.1:8000   (admin: http://127.0.0.1:8000/admin/)   Ctrl-C stops everything."
	$(VENV)/bin/honcho --procfile Procfile start

# Debian packages for PDFs: HarfBuzz's font subsetter (without it WeasyPrint subsets
# each font in Python, 100 ms and more a document) and the fonts the documents use.
PDF_PACKAGES := libharfbuzz-subset0 fonts-dejavu-core

pdf-deps:
	@dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || { \
		echo "Installing Debian packages: $(PDF_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES) >/dev/null; }

# Debian packages the test suite needs: those for PDFs, and Chromium for the browser tests.
system-deps: pdf-deps
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian packages: chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

check-services:
	@$(PY) -c "import psycopg2; psycopg2.connect('$(TEST_DATABASE_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null || { \
		echo "PostgreSQL does not answer on 127.0.0.1:5432. Start it with:"; \
		echo "  pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; exit 1; }
	@$(PY) -c "import redis; redis.Redis.from_url('$(TEST_BROKER_URL)', socket_timeout=3).ping()" 2>/dev/null || { \
		echo "Redis does not answer on 127.0.0.1:6379. Start it with:"; \
		echo "  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no"; exit 1; }

test: install system-deps check-services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(PY) -m pytest -n 2 --durations=15

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Performance at 1x and 100x against PostgreSQL; writes bench/results.json and bench/RESULTS.md.
# Its "peer" part builds bench/oscar/.venv (django-oscar, outside the project's dependencies)
# when missing, and reports the peer as not measured if that fails.
bench: install pdf-deps check-services
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) bench/run.py --scale $(or $(SCALE),100)

# The django-oscar peer's own virtualenv alone (bench/oscar/setup.sh; the bench does it too).
bench-peer:
	PYTHON=$(PYTHON) sh bench/oscar/setup.sh

# The long form of the load test: 24 API buyers and a planner against gunicorn on
# PostgreSQL for LOAD_SECONDS (60 by default); figures in var/load-results.json.
LOAD_SECONDS ?= 60
load: install check-services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) LOAD_SECONDS=$(LOAD_SECONDS) \
		$(PY) -m pytest tests/load -q -s -p no:cacheprovider

# A full turbulent season on a simulated clock, naive and calibrated promises side by
# side, in a database of its own (DATABASE_URL's server, or a temporary SQLite file);
# writes $(SEASON_OUT)/report.json and report.html. docs/PROMISES.md explains them.
SEASON_OUT ?= var/season
simulate: install
	$(PY) manage.py simulate_season --weeks 26 --stores 200 --scenario turbulent --promise both --out $(SEASON_OUT)

clean:
	rm -rf var staticfiles .pytest_cache
