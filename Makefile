# The two commands a newcomer needs: `make refresh` and `make test`. Each creates the venv and
# prepares the dbt manifest when missing or stale, and re-uses them otherwise.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
LOCK := requirements.lock
LOCKED := $(VENV)/.locked
MANIFEST := dbt_project/target/manifest.json
CHROMIUM := /usr/bin/chromium
# Any installed PostgreSQL server will do; when none is, Debian 12's (15) is the one installed.
POSTGRES_INITDB := $(or $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb)),/usr/lib/postgresql/15/bin/initdb)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros -type f) \
	dbt_project/dbt_project.yml $(wildcard seeds/reference/*.csv)

export DAGSTER_HOME := $(CURDIR)/.dagster
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: refresh test dev bench lint lock clean

refresh: $(MANIFEST)
	$(BIN)/barometer refresh

# On every core (pytest-xdist): each test file is one worker's unit of work, the dearest first
# (tests/conftest.py), and the 15 slowest tests named at the end; `pytest` alone is one process.
test: $(MANIFEST) $(CHROMIUM) $(POSTGRES_INITDB)
	$(BIN)/pytest -n auto --dist loadfile --durations=15

# The Dagster UI on 127.0.0.1:3000 and the night's pages on BAROMETER_PAGES_PORT (3001), until
# Ctrl-C stops both within seconds (docs/operations.md).
dev: $(MANIFEST)
	$(BIN)/barometer dev --port 3000

# Not part of the tests: a night with nothing new against its floor (the checks that decide it,
# interleaved with it), then 1 M, 10 M and 30 M case events: full refresh, a night and the
# plain-SQL floor interleaved (about 1.5 hours on 2 cores, most of it the 30 M rounds; the
# extracts go to /tmp/bench-cases), then a backup and a restore at 10 M events, then each
# engine's full night, case night and night with nothing new, interleaved
# (a throw-away PostgreSQL server, as in the tests). Figures go to bench/RESULTS.md.
bench: $(MANIFEST) $(POSTGRES_INITDB)
	$(BIN)/python bench/refresh.py --results bench/RESULTS.md
	$(BIN)/python bench/cases.py --events 1000000 10000000 30000000 --results bench/RESULTS.md
	$(BIN)/python bench/backup.py --events 10000000 --results bench/RESULTS.md
	$(BIN)/python bench/engines.py --results bench/RESULTS.md

lint: $(INSTALLED)
	$(BIN)/ruff check orchestration tests bench
	$(BIN)/ruff format --check orchestration tests bench

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs

# requirements.lock pins everything pip installs, every transitive dependency and the build
# backend included, with hashes, for Python 3.11 on x86_64 Linux (Debian 12, glibc 2.36): two
# installs a month apart are the same program. This writes it again from pyproject.toml in
# seconds, keeping each pin that still fits; `make lock LOCK_FLAGS=--upgrade` moves all to the
# newest releases. tests/test_lock.py fails while the two disagree.
lock: $(LOCKED)
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
		| $(BIN)/uv pip compile pyproject.toml - --extra dev --generate-hashes --quiet \
			--python-version 3.11 --python-platform x86_64-manylinux_2_36 \
			--custom-compile-command "make lock" $(LOCK_FLAGS) -o $(LOCK)

# The report test opens the page in a real browser: Debian's chromium, installed once (as root, or
# through sudo). Playwright only drives it; `playwright install` downloads nothing here.
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium

# The PostgreSQL engine's tests start a throw-away server from Debian's binaries
# (tests/postgres.py): installed once the same way. Nothing else needs a server.
$(POSTGRES_INITDB):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq postgresql

# Exactly the locked versions, hashes checked. pip installs the locked uv alone, and uv the rest:
# it fetches and unpacks in parallel and compiles the bytecode on every core, 15 s where pip
# alone took 58 (the files installed are the same). The lock is complete, so nothing is resolved
# (--no-deps: in hash mode a resolver cannot pin a dependency named with an extra, like
# sqlglot[rs]). The bytecode is compiled now because this machine sets PYTHONDONTWRITEBYTECODE:
# without it, every process would compile what it imports.
$(LOCKED): $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/, !/\\$$/' $(LOCK) > $(VENV)/uv-requirement.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(VENV)/uv-requirement.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes --no-deps --compile-bytecode -r $(LOCK)
	touch $@

# Then the project itself, built with the locked setuptools; `uv pip check` proves that
# everything fits together, and fails while pyproject.toml asks for what the lock lacks.
$(INSTALLED): $(LOCKED) pyproject.toml
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/uv pip check --quiet --python $(BIN)/python \
		|| { echo "requirements.lock does not meet pyproject.toml: run make lock"; exit 1; }
	touch $@

# dagster-dbt reads the manifest when the code location loads: parse once at set-up, not per run.
$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	$(BIN)/barometer prepare
	touch $@
