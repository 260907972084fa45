# The local twin's commands. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
RECORDS ?= 2000
SCALE_RECORDS ?= 1000000

.PHONY: setup test lint schema bench demo up down clean

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
	$(PY) -m bench $(if $(filter command line environment,$(origin RECORDS)),--records $(RECORDS)) \
		--scale-records $(SCALE_RECORDS)

demo: setup
	$(PY) -m devhost.demo --records $(RECORDS) $(if $(KEEP),--keep)

up: setup
	mkdir -p .run
	test ! -f .run/up.pid || { echo "already up (.run/up.pid); make down first" >&2; exit 1; }
	nohup $(PY) -m devhost.up --records $(RECORDS) > .run/up.log 2>&1 & echo $$! > .run/up.pid
	for i in $$(seq 1 120); do test -f .run/twin.env && break; sleep 0.5; done
	cat .run/twin.env

down:
	test -f .run/up.pid && kill $$(cat .run/up.pid) || true
	rm -f .run/up.pid

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
