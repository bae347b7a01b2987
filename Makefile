# controlroom — every target bootstraps what it needs; CI calls `make test` through .ci/run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser demo test test-unit test-integration test-e2e test-browser lint audit format local-cloud topology bundle eval bench reliability clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/controlroom demo $(if $(ONCE),--once,)

eval: install
	$(BIN)/controlroom support compare kb/eval/messages.jsonl:kb/articles kb/heldout/messages.jsonl:kb/heldout/articles kb/heldout2/messages.jsonl:kb/heldout2/articles

topology: install
	$(BIN)/controlroom topology

# One zip per function (main.py, shared/, pinned requirements.txt) in dist/bundles for Terraform.
bundle: install
	$(BIN)/python -m emulators.bundle --out dist/bundles

local-cloud: install
	$(BIN)/controlroom local-cloud

# Headless Chromium from Debian's packages for tests/browser (Playwright never downloads one);
# skipped when installed. As root apt-get runs directly, otherwise through sudo.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

browser:
	@test -x $(CHROMIUM) || { \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

test: install browser
	$(BIN)/python -m pytest tests

test-unit: install
	$(BIN)/python -m pytest tests/unit

test-integration: install
	$(BIN)/python -m pytest tests/integration

test-e2e: install
	$(BIN)/python -m pytest tests/e2e

test-browser: install browser
	$(BIN)/python -m pytest tests/browser

bench: install
	$(BIN)/python -m bench.run $(if $(QUICK),--quick,)

# Faults (tests/faults at 40 runs), hostile inputs and load, in one table (about 10 minutes).
reliability: install
	$(BIN)/python -m bench.reliability $(if $(FAULT_RUNS),--fault-runs $(FAULT_RUNS),)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Known vulnerabilities in the installed dependencies; fails when any cannot be checked.
audit: install
	$(BIN)/pip-audit --skip-editable --strict --progress-spinner off

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info .local-cloud
