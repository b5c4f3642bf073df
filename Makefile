# Quick start:  make lab   (set up and open the course)
#               make test  (set up and run every test, notebooks included)
# Every target sets up .venv first when needed, so each works on a fresh clone.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888

.PHONY: setup lab test unit notebooks-test lint book refresh bench clean help

help:
	@echo "make lab    - set up and open JupyterLab on notebooks/00_welcome.ipynb (http://localhost:$(PORT))"
	@echo "make test   - set up and run the whole suite: lint, unit tests, notebooks (nbval), exercises"
	@echo "make book   - execute every notebook into build/ (notebooks + HTML), one line per notebook"
	@echo "make refresh NB=notebooks/05_gan.ipynb - re-execute a notebook in place (stored outputs)"
	@echo "make bench  - run the benchmarks (slow; not part of make test)"

setup: $(STAMP)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

lab: setup
	$(VENV)/bin/jupyter lab --no-browser --port=$(PORT) $(LAB_ARGS) notebooks/00_welcome.ipynb

test: setup lint
	$(PY) -m pytest -q

unit: setup
	$(PY) -m pytest -q tests

lint: setup
	$(VENV)/bin/ruff check .

book: setup
	$(PY) tools/run_notebooks.py --out build

refresh: setup
	$(PY) tools/run_notebooks.py --inplace $(NB)

bench: setup
	$(PY) benchmarks/run.py $(BENCH)

clean:
	rm -rf build .pytest_cache .ruff_cache
