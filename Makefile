# The two commands a newcomer needs: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX := webapp/web/static/vendor/htmx.min.js
# The search of a published site (counterpoint publish) runs in the browser with lunr.js.
LUNR := webapp/web/static/vendor/lunr.min.js
# Stamp of `npm ci`: htmx, which the app serves, and axe-core, which the accessibility tests inject.
NPM := node_modules/.installed

.PHONY: run test setup bench clean

run: setup
	$(BIN)/counterpoint run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/python -m pytest

setup: $(VENV)/.installed $(HTMX) $(LUNR) $(NPM)

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

# npm packages come at the versions pinned in package-lock.json; htmx from its official package.
$(NPM): package.json package-lock.json
	npm ci --include=dev --no-audit --no-fund
	touch $@

$(HTMX): $(NPM)
	mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(LUNR): $(NPM)
	mkdir -p $(dir $@)
	cp node_modules/lunr/lunr.min.js $@

clean:
	rm -rf $(VENV) node_modules $(HTMX) $(LUNR) instance
