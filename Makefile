# The two commands a newcomer needs: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX := webapp/web/static/vendor/htmx.min.js

.PHONY: run test setup bench clean

run: setup
	$(BIN)/counterpoint run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/python -m pytest

setup: $(VENV)/.installed $(HTMX)

bench: setup
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_related.py --quick
	$(BIN)/python benchmarks/bench_suggest.py

# Reinstalled when pyproject.toml changes; the stamp file keeps repeat runs instant.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# htmx comes from its official npm package at the version pinned in package-lock.json.
node_modules/htmx.org/dist/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(HTMX): node_modules/htmx.org/dist/htmx.min.js
	mkdir -p $(dir $@)
	cp $< $@

clean:
	rm -rf $(VENV) node_modules $(HTMX) instance
