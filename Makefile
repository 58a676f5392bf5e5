# bookstore: the two front doors are `make run` and `make test`; both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.bookstore-installed

.PHONY: install test lint pytest run bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "bookstore needs Python 3.11 or newer: make PYTHON=python3.11 ..."; exit 1; }
	@echo "==> creating the virtualenv in $(VENV) and installing bookstore with all extras"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,test]"
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check bookstore tests scripts benchmarks dags plugins
	$(BIN)/ruff format --check bookstore tests scripts benchmarks dags plugins
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint pytest

run: $(STAMP)
	$(BIN)/python scripts/run_local_stack.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
