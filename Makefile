# The local twin's commands. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup test lint schema bench demo clean

setup: $(VENV)/.installed node_modules/.installed local.settings.json

local.settings.json:
	cp local.settings.sample.json $@

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

schema: setup
	$(PY) -m shared.schema

bench: setup
	$(PY) -m bench.mapping_engine

demo: setup
	@echo "make demo: the end-to-end demo arrives with the prospect-to-cash templates; see README.md" >&2
	@exit 2

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
