# bookstore: the two front doors are `make run` and `make test`; both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.bookstore-installed
# The JupyterLab extension's sources: installing bookstore builds it (labextension/hatch_build.py).
LABEXT_SOURCES := $(wildcard labextension/src/* labextension/style/* labextension/schema/*) \
	$(addprefix labextension/,package.json package-lock.json tsconfig.json install.json hatch_build.py)

# configurable-http-proxy (npm), the proxy of the real JupyterHub tests/test_hub.py starts.
HUB_PROXY := $(VENV)/hub/node_modules/.bin/configurable-http-proxy

.PHONY: install test test-fast lint jstest docs pytest browser hubproxy collab run bench clean

$(STAMP): pyproject.toml $(LABEXT_SOURCES)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "bookstore needs Python 3.11 or newer: make PYTHON=python3.11 ..."; exit 1; }
	@command -v npm >/dev/null \
		|| { echo "bookstore's JupyterLab extension is built with Node.js (20 or newer) and npm: install them"; exit 1; }
	@echo "==> creating the virtualenv in $(VENV) and installing bookstore with all extras"
	@echo "    (this builds the JupyterLab extension: npm ci, then npm run build in labextension/)"
	@# A virtualenv left half-made (make stopped while creating it) has no pip: make it again.
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e ".[all,test]"
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check bookstore devtools tests scripts benchmarks dags plugins docs labextension/hatch_build.py
	$(BIN)/ruff format --check bookstore devtools tests scripts benchmarks dags plugins docs labextension/hatch_build.py
	$(BIN)/mypy

# The JupyterLab extension's unit tests (vitest), on the npm packages the build installed, after
# checking that its REST types (labextension/src/openapi.ts) are what bookstore/jupyter/openapi.yaml
# generates now.
jstest: $(STAMP)
	test -d labextension/node_modules || (cd labextension && npm ci --no-audit --no-fund)
	cd labextension && npm run --silent check-api-types
	cd labextension && npm test

# Debian's Chromium for tests/test_labextension.py, installed when missing and we are root;
# otherwise that test fails saying what to install.
browser:
	@scripts/ensure_chromium.sh || echo "warning: no Chromium: tests/test_labextension.py will fail"

$(HUB_PROXY):
	@command -v npm >/dev/null \
		|| { echo "tests/test_hub.py runs JupyterHub's configurable-http-proxy, from npm: install Node.js and npm"; exit 1; }
	npm install --no-save --no-audit --no-fund --prefix $(VENV)/hub configurable-http-proxy@4

hubproxy: $(HUB_PROXY)

# jupyter-collaboration for tests/test_collaboration.py, in a virtualenv of its own layered on
# this one: installed here, it would make every other test's Jupyter server collaborative.
COLLAB_STAMP := $(VENV)/collab/.bookstore-installed

$(COLLAB_STAMP): $(STAMP) scripts/collab_venv.py
	$(BIN)/python scripts/collab_venv.py $(VENV)/collab
	@touch $@

collab: $(COLLAB_STAMP)

# Test modules run four at a time (pytest-xdist, a module's tests together so its servers
# start once): most of the suite waits on servers, kernels and S3 outages, so four keep two
# cores busy. The longest modules are handed out first (tests/conftest.py, LONGEST, with
# --no-loadscope-reorder; xdist would hand out the modules with the most tests first), so
# that no worker is left alone with one at the end. Measured back to back, pytest took
# 5 min 14 s with xdist's order and 4 min 54 s with this one; three workers instead of four,
# in another pair, 8 min 8 s against 7 min 37 s.
PYTEST_WORKERS ?= 4
pytest: $(STAMP) browser hubproxy collab
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# The docs site (docs/, Sphinx with MyST pages), warnings as errors, into docs/_build/html. The
# reference pages the code defines are generated during the build; nothing is fetched.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -n -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

# make test: the checks that start no server (linters, the front end's tests, the docs) run
# side by side while the suite's other needs install, each one's output kept together; then
# the suite.
test: $(STAMP)
	@$(MAKE) --no-print-directory -j4 --output-sync=target lint jstest docs browser hubproxy collab
	@$(MAKE) --no-print-directory pytest

# The tests that need none of Chromium, Airflow, the hub's proxy or PostgreSQL, and are not
# slow (markers in pyproject.toml): SeaweedFS, Jupyter servers and kernels only.
FAST_TESTS := not (browser or airflow or hub or celery or slow)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "$(FAST_TESTS)" $(PYTEST_ARGS)

run: $(STAMP) hubproxy
	$(BIN)/python scripts/run_local_stack.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache docs/_build docs/_generated
	rm -rf labextension/node_modules labextension/lib labextension/tsconfig.tsbuildinfo bookstore/labextension
