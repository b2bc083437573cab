# The two set-up commands: `make run` serves the bundled knowledge base on localhost,
# `make test` runs the whole test suite. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test test-virtuoso lint bench-load clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/kb serve

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Both backends: the suite on the embedded Oxigraph (store-level tests on both), then again
# with every app-level test (endpoint, pages, catalogue, submissions, kb serve) against a
# private Virtuoso 7 — the files that never touch a store are not run twice.
test: lint
	$(BIN)/pytest
	@if command -v virtuoso-t >/dev/null; then $(MAKE) --no-print-directory test-virtuoso; \
	else echo "*** virtuoso-opensource is not installed: the Virtuoso pass was NOT run" \
	  "(apt-get install virtuoso-opensource, or run .ci/run)"; fi

ONCE := test_architecture test_backends test_commit_atomicity test_curl test_docs test_front_ends test_generate \
	test_scope test_shacl_w3c test_shapes_examples test_validate
test-virtuoso: $(VENV)/.installed
	KB_TEST_STORE=virtuoso $(BIN)/pytest $(foreach f,$(ONCE),--ignore=tests/$(f).py)

bench-load: $(VENV)/.installed
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
