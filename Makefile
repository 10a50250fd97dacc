# The two commands a newcomer needs: `make demo` and `make test`. Every target installs what it lacks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REF_VENV := .venv-ref
export CELLPORTAL_REFERENCE_PYTHON ?= $(abspath $(REF_VENV))/bin/python

.PHONY: demo test lint format install install-ref install-cxg system-deps clean bench frontend migration

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Re-install when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/cellportal reference fetch
	touch $@

install: $(VENV)/.installed frontend

# The browser code (frontend/, npm + esbuild) is built into the package's static folder, not committed.
FRONTEND_BUNDLE := src/cellportal/web/static/explorer/explorer.js
UPLOAD_BUNDLE := src/cellportal/web/static/portal/upload.js
frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
$(FRONTEND_BUNDLE) $(UPLOAD_BUNDLE) &: frontend/node_modules/.package-lock.json frontend/build.mjs $(wildcard frontend/src/*/*)
	cd frontend && npm run build
frontend: $(FRONTEND_BUNDLE) $(UPLOAD_BUNDLE)

# The reference validator (cellxgene-schema) pins old anndata/numpy, so it lives in its own venv and
# is driven by subprocess from the conformance tests and the benchmarks.
# A reference tool in a venv of its own. The stamp names the pin, so changing the pin re-installs:
# $(VENV_DIR)/.installed-<name>-<version>: $(call tool-venv,<name>==<version>)
define tool-venv
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/pip install -q --upgrade pip
	$(@D)/bin/pip install -q '$(1)'
	touch $@
endef

REF_PIN := cellxgene-schema==7.1.2
REF_STAMP := $(REF_VENV)/.installed-$(subst ==,-,$(REF_PIN))
$(REF_STAMP):
	$(call tool-venv,$(REF_PIN))

install-ref: $(REF_STAMP)

# The reference explorer for bench/explorer.py (cellxgene 1.3.0 pins its own numpy/anndata): its own venv too.
CXG_VENV := .venv-cxg
CXG_PIN := cellxgene==1.3.0
CXG_STAMP := $(CXG_VENV)/.installed-$(subst ==,-,$(CXG_PIN))
$(CXG_STAMP):
	$(call tool-venv,$(CXG_PIN))

install-cxg: $(CXG_STAMP)

system-deps:
	bash scripts/system-deps.sh

demo: install frontend
	$(BIN)/cellportal demo --serve

test: install install-ref system-deps frontend
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -n 2 tests

bench: install install-ref
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/convert.py --write-doc
	$(BIN)/python bench/pipeline.py --write-doc

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# A new catalog migration from the changes in catalog/models.py: make migration MESSAGE="add x to y"
migration: install
	$(BIN)/python -c 'import sys; from cellportal.catalog import migrate; migrate.new_migration(sys.argv[1])' "$(MESSAGE)"

clean:
	rm -rf $(VENV) $(REF_VENV) $(CXG_VENV) .pytest_cache
