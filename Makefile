# Set-up, the demo, tests and benchmarks. Every target creates the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv demo test test-fast lint bench figures

venv: $(VENV)/.installed

# The package is installed editable (its dependencies are requirements.txt's pins, installed just before), so
# that `import ecgcrnn` works from any folder, the benchmark scripts included.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# DEMO_ARGS, e.g. "--train-records 200 --test-records 50 --epochs 2": see python -m ecgcrnn.app.demo --help
demo: venv
	$(BIN)/python -m ecgcrnn.app.demo $(DEMO_ARGS)

test: venv
	$(BIN)/python -m pytest -n auto

test-fast: venv
	$(BIN)/python -m pytest -n auto -m "not slow"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

bench: venv
	$(BIN)/python bench/scoring.py

figures: venv
	$(BIN)/python bench/figures.py
