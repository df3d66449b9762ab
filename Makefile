# The two commands of the README: `make study` and `make test`. Each sets up .venv by itself.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0

.PHONY: study test bench docs docs-check setup export

$(STAMP): settings.ini setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[dev]"
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

export: $(STAMP)
	$(VENV)/bin/nbdev_export
	$(VENV)/bin/nbdev_clean
	$(PY) tools/make_readme.py
