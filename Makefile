# Set-up and everyday commands. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The newest Python >= 3.12 on this machine (Django 6 needs 3.12).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 \
	$$HOME/.pyenv/versions/3.14*/bin/python $$HOME/.pyenv/versions/3.13*/bin/python \
	$$HOME/.pyenv/versions/3.12*/bin/python python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	2>/dev/null && { command -v $$p; break; }; done)

.PHONY: run test lint bench install install-test clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/wasl compiletranslations >/dev/null
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/wasl compiletranslations >/dev/null
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi
	@# Browser tests drive Debian's Chromium (never a downloaded browser build).
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -qq chromium >/dev/null 2>&1 \
				|| { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
		else \
			echo "No /usr/bin/chromium and not root: browser tests will be skipped" \
				"(install it with: sudo apt-get install chromium)"; \
		fi; \
	fi

run: install
	$(BIN)/wasl run

test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy wasl

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules build *.egg-info
