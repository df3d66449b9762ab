# The two commands of the README: `make study` and `make test`. Each sets up .venv by itself.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0

CONSTRAINTS := constraints.txt

.PHONY: study test bench docs docs-check setup export constraints outputs imports

# every package at the version the test suite last passed with (constraints.txt; `make constraints` rewrites it)
$(STAMP): settings.ini setup.py $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) $(TORCH)
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

study: $(STAMP)
	$(PY) tools/run_study.py

test: $(STAMP)
	$(PY) tools/run_tests.py --docs

docs: $(STAMP)
	$(PY) tools/build_docs.py

# headless-browser check of the built site (needs Debian's chromium; not part of `make test`)
docs-check: docs
	$(PY) tools/docs_screenshot.py

bench: $(STAMP)
	$(PY) tools/run_tests.py --flags bench

# after `make test` passes with new versions: record them (what .venv holds now, this package excluded)
constraints: $(STAMP)
	$(PY) tools/write_constraints.py $(CONSTRAINTS)

# run every chapter at its test-sized settings and keep the outputs in the notebooks (about 2 minutes)
outputs: $(STAMP)
	$(PY) tools/execute_notebooks.py
	$(VENV)/bin/nbdev_clean

# the package's import structure in chapter order (outputs/figures/imports.png); fails if an import points up
imports: $(STAMP)
	$(PY) tools/import_graph.py

export: $(STAMP)
	$(VENV)/bin/nbdev_export
	$(PY) tools/tidy_exports.py
	$(VENV)/bin/nbdev_clean
	$(PY) tools/make_readme.py
