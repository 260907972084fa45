# The local twin's commands. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
FO_VENV := .venv-fo
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
RECORDS ?= 2000
SCALE_RECORDS ?= 1000000

.PHONY: setup test lint schema connector bench demo up down clean screenshots

setup: $(VENV)/.installed $(FO_VENV)/.installed node_modules/.installed local.settings.json

local.settings.json:
	cp local.settings.sample.json $@

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# d365fo-client, run by tests/sandbox/test_finops_client.py: a venv of its own (see requirements-d365fo.txt).
$(FO_VENV)/.installed: requirements-d365fo.txt
	test -x $(FO_VENV)/bin/python || $(PYTHON) -m venv $(FO_VENV)
	$(FO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --ignore-requires-python -r requirements-d365fo.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# the dashboard's browser tests again, writing the README's screenshots to docs/screenshots/
screenshots: setup
	DI_SCREENSHOTS=1 $(VENV)/bin/pytest tests/browser $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

schema: setup
	$(PY) -m shared.schema

# connector/: the Power Automate / Logic Apps custom connector (HOST=<app>.azurewebsites.net names your app)
connector: setup
	$(PY) -m api.openapi_files $(if $(HOST),--host $(HOST))

bench: setup
	$(PY) -m bench $(if $(filter command line environment,$(origin RECORDS)),--records $(RECORDS)) \
		--scale-records $(SCALE_RECORDS)

demo: setup
	$(PY) -m twin.demo --records $(RECORDS) $(if $(KEEP),--keep)

up: setup
	mkdir -p .run
	test ! -f .run/up.pid || { echo "already up (.run/up.pid); make down first" >&2; exit 1; }
	nohup $(PY) -m twin.up --records $(RECORDS) > .run/up.log 2>&1 & echo $$! > .run/up.pid
	for i in $$(seq 1 120); do test -f .run/twin.env && break; sleep 0.5; done
	cat .run/twin.env

down:
	test -f .run/up.pid && kill $$(cat .run/up.pid) || true
	rm -f .run/up.pid

clean:
	rm -rf $(VENV) $(FO_VENV) node_modules .pytest_cache .ruff_cache
