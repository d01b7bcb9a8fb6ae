# fundtrail: two commands for a new user, `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
NODEDIR := tools/node
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYTHONUNBUFFERED := 1

.PHONY: system setup demo test test-fast bench docs docs-check lint fmt clean

setup: system $(VENV)/.stamp $(NODEDIR)/.stamp

# Debian packages (PostgreSQL, Chromium, poppler, Graphviz, Java, node, wrk) when missing: idempotent
system:
	@bash tools/system-packages.sh

$(VENV)/.stamp: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,postgres,spark]'
	touch $@

$(NODEDIR)/.stamp: $(NODEDIR)/package.json
	cd $(NODEDIR) && npm install --no-audit --no-fund --loglevel=error
	touch $@

# make demo CHAIN=tron: the same story with USDT on TRON
CHAIN   ?= btc
demo: setup
	$(BIN)/fundtrail demo --chain $(CHAIN)

test: setup
	$(BIN)/pytest -q -p no:cacheprovider

test-fast: setup
	$(BIN)/pytest -q -x -m "not slow and not browser and not spark"

bench: setup
	$(BIN)/pip install -q -e '.[bench]'
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Console blocks in README and guides re-run on fixed seeds; figures copied from bench/results/.
docs: setup
	$(BIN)/python tools/docs.py

# Every console session (minutes); the test suite checks the figures and the cheap sessions.
docs-check: setup
	$(BIN)/python tools/docs.py --check

lint: setup
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy

fmt: setup
	$(BIN)/ruff format src tests bench tools
	$(BIN)/ruff check --fix src tests bench tools

clean:
	rm -rf $(VENV) $(NODEDIR)/node_modules $(NODEDIR)/.stamp fundtrail-data demo-data
