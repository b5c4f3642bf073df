# Quick start:  make lab   (set up and open the course)
#               make test  (set up and run every test, notebooks included)
# Every target sets up .venv first when needed, so each works on a fresh clone.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# make test runs on JOBS processes (pytest-xdist), one notebook or test file per process at a time, each
# on one thread (OMP_NUM_THREADS=1: two 2-thread processes on 2 cores slowed some tests tenfold).
JOBS   ?= 2
# JupyterLab refuses to run as root unless told; containers often are root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup browser-deps lab test unit lint book refresh bench clean help

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
	@echo "Installing the course and its dependencies into $(VENV) (a few minutes the first time; log: $(VENV)/install.log)"
	@$(PY) -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(PY) -m pip install -e ".[test]" >> $(VENV)/install.log 2>&1 || (tail -50 $(VENV)/install.log; exit 1)
	@touch $(STAMP)

lab: setup
	$(VENV)/bin/jupyter lab --no-browser --port=$(PORT) $(LAB_ARGS) notebooks/00_welcome.ipynb

test: setup browser-deps lint
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n $(JOBS) --dist loadfile

# The browser tests use Debian's Chromium (Playwright's own browser download needs the internet) and a
# CJK font for the course's Chinese terms. Installed when missing and apt-get can; otherwise they skip.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium and a CJK font for the browser tests (log: $(VENV)/apt.log)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei) \
	      > $(VENV)/apt.log 2>&1 || (tail -20 $(VENV)/apt.log; exit 1); \
	  else \
	    echo "note: chromium or a CJK font is missing and apt-get is not usable here; browser tests will skip"; \
	  fi; \
	fi

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
