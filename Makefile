# gridline: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BIN ?= $(shell command -v python3.11 || ls /root/.pyenv/versions/3.11*/bin/python3.11 2>/dev/null | head -1 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

export GRIDLINE_HOME ?= $(CURDIR)/var
export GRIDLINE_LANDING ?= $(GRIDLINE_HOME)/landing
export AIRFLOW_HOME ?= $(GRIDLINE_HOME)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export AIRFLOW__USAGE_DATA_COLLECTION__ENABLED := False
export SCARF_ANALYTICS := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export PATH := $(BIN):$(PATH)

DEMO_DATA := $(GRIDLINE_LANDING)

.PHONY: help install airflow-init browser-deps system-deps demo test lint bench-ingest bench-nightly bench-scale bench-tickets bench-ticket-nights bench-spark drills clean

help:
	@echo "make demo   - install, generate a small city, run the Airflow DAGs, print the top tickets"
	@echo "make test   - install and run the test suite"
	@echo "make lint   - ruff"
	@echo "make bench-ingest - ingest throughput of the 12345 format (a few minutes)"
	@echo "make bench-nightly - a night after 1 and 11 months, small and city, per step (an hour or more)"
	@echo "make bench-scale - a city and a megacity year from landing files to published marts (hours)"
	@echo "make drills - kills, full disks, damaged files and hostile queries on the tiny city (~10 min)"
	@echo "make bench-tickets - tickets vs the TF-IDF baseline on the real sets and generated cities"
	@echo "make bench-ticket-nights HOME_DIR=... - the ticket models on a full build and a night, on HOME_DIR's warehouse"
	@echo "make bench-spark - the same whole build on DuckDB and on Spark, small and city, side by side (SCALES=small)"

# A Debian system Python refuses user installs (PEP 668) unless told that a user-level tool is meant.
$(UV):
	$(PYTHON_BIN) -m pip install --quiet --user uv || \
		$(PYTHON_BIN) -m pip install --quiet --user --break-system-packages uv

# Bytecode is compiled at install: with PYTHONDONTWRITEBYTECODE set (as on these machines) every gridline,
# dbt and Airflow process would otherwise compile its imports from source, about 6 s each.
$(BIN)/gridline: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON_BIN)
	@touch $@

install: $(BIN)/gridline

$(AIRFLOW_HOME)/.migrated: | install
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (tail -20 $(AIRFLOW_HOME)/migrate.log; exit 1)
	$(BIN)/airflow pools set gridline_duckdb_writer 1 "DuckDB allows one writer per file" > /dev/null
	@touch $@

airflow-init: $(AIRFLOW_HOME)/.migrated

demo: install airflow-init
	@$(BIN)/gridline init --local-key
	@$(BIN)/gridline generate --out $(DEMO_DATA) --scale tiny --seed 7
	@# The city's reference is data, written by the generator and loaded as a deployment loads its own.
	@$(BIN)/gridline reference import areas $(DEMO_DATA)/reference/areas.csv
	@$(BIN)/gridline reference import categories $(DEMO_DATA)/reference/categories.csv
	@$(BIN)/gridline reference import activities $(DEMO_DATA)/reference/activities.csv
	@# The nightly run at local midnight after day D ingests the landing folder of day D.
	@for stream in hotline grid volunteer; do \
		for day in $$(ls $(DEMO_DATA)/$$stream); do \
			run_at=$$(date -d "$$day + 1 day" +%F)T00:00:00+08:00; \
			log=$(GRIDLINE_HOME)/airflow-ingest-$$stream-$$day.log; \
			echo "== airflow dags test gridline_ingest_$$stream $$run_at  (landing/$$stream/$$day)"; \
			$(BIN)/airflow dags test gridline_ingest_$$stream $$run_at > $$log 2>&1 || { tail -30 $$log; exit 1; }; \
		done; \
	done
	@echo "== airflow dags test gridline_transform  (audit batches -> dbt build -> Great Expectations -> publish)"
	@$(BIN)/airflow dags test gridline_transform > $(GRIDLINE_HOME)/airflow-transform.log 2>&1 \
		|| { tail -40 $(GRIDLINE_HOME)/airflow-transform.log; exit 1; }
	@echo "== top class-of-problem tickets (gridline sql)"
	@$(BIN)/gridline sql "select t.quarter, t.ticket_id, t.status, t.case_count, t.area_level, t.area_code, \
		regexp_extract(t.category_path, '[^/]+$$') as category from marts.problem_class_tickets t \
		where t.status <> 'abated' order by t.case_count desc, t.quarter limit 10" | column -s, -t
	@echo "== tickets against the planted truth (gridline evaluate)"
	@$(BIN)/gridline evaluate --truth $(DEMO_DATA)/truth.json
	@quarter=$$($(BIN)/gridline sql "select max(quarter) as q from marts.problem_class_tickets" | tail -1); \
		echo "== quarterly review $$quarter (gridline report)"; \
		$(BIN)/gridline report --quarter $$quarter
	@echo
	@echo "published marts: $(GRIDLINE_HOME)/warehouse/published.duckdb  (gridline sql \"select ...\")"
	@echo "quarterly report: $(GRIDLINE_HOME)/reports/"
	@echo "dbt docs:        $(GRIDLINE_HOME)/docs/dbt.html"
	@echo "data docs:       $(GRIDLINE_HOME)/gx/gx/uncommitted/data_docs/local_site/index.html"
	@echo "airflow logs:    $(GRIDLINE_HOME)/airflow-*.log"

# The report's browser test needs Debian chromium and a CJK font: installed once, only when missing.
browser-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	dpkg -s fonts-noto-cjk > /dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		echo "installing$$missing (apt)"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The Airflow production-topology test runs PostgreSQL 15 from Debian: installed once, only when missing.
system-deps:
	@missing=""; \
	[ -x /usr/lib/postgresql/15/bin/postgres ] || missing="$$missing postgresql"; \
	command -v docker-compose > /dev/null || docker compose version > /dev/null 2>&1 || missing="$$missing docker-compose"; \
	if [ -n "$$missing" ]; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		echo "installing$$missing (apt)"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Three pytest-xdist workers on two cores: many tests wait on a child process (gridline, dbt, airflow) or
# a server. Measured here, the cores were busy about 1.55 of 2 with two workers and with three alike: the
# CPU the tests need, not how they are spread, sets the suite's time. Tests that share a costly set-up
# stay on one worker (`--dist loadgroup`): the Airflow stack (tests/airflow_stack.py) and each group of
# Spark tests (tests/conftest.py).
TEST_WORKERS ?= 3

test: install browser-deps system-deps
	$(BIN)/pytest -q --numprocesses $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Ingest throughput of the 12345 CSV format at 0.5 M and 1.2 M orders, against a plain DuckDB COPY.
bench-ingest: install
	$(BIN)/python scripts/bench_ingest.py

# A night after 1 and after 11 months of history, at small and city scale: seconds per step, peak RSS.
bench-nightly: install
	$(BIN)/python scripts/bench_nightly.py

# A city and a megacity year, from landing files to published marts: seconds per step, peak RSS.
bench-scale: install
	$(BIN)/python scripts/bench_scale.py

# The same whole build, audit and publish on DuckDB and on Spark, side by side (SCALES="small" for the
# smaller only: a city on Spark on this machine takes long).
bench-spark: install
	$(BIN)/python scripts/bench_spark.py $(if $(SCALES),--scales $(SCALES))

# Fault drills (not part of `make test`: slow, and the disk-full drill mounts a tmpfs when run as root).
drills: install
	$(BIN)/python scripts/drills.py

bench-tickets: install
	$(BIN)/python scripts/evaluate_real.py

# On a built warehouse (a city-scale home for the nightly budget); default: $GRIDLINE_HOME.
bench-ticket-nights: install
	$(BIN)/python scripts/bench_ticket_nights.py $(if $(HOME_DIR),--home $(HOME_DIR))

clean:
	rm -rf $(GRIDLINE_HOME) dbt_project/target dbt_project/logs
