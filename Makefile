# Set-up, the demo, tests and benchmarks. Every target creates the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv demo test test-fast lint bench figures

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: venv
	@echo "make demo: the end-to-end demo needs the model (issue #4) and the synthetic data (issue #5)," \
	  "which are not written yet" >&2; exit 1

test: venv
	$(BIN)/python -m pytest -n auto

test-fast: venv
	$(BIN)/python -m pytest -n auto -m "not slow"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: venv
	$(BIN)/python bench/scoring.py

figures: venv
	$(BIN)/python -m ecgcrnn.figures
