# Set-up, the demo, tests and benchmarks. Every target creates the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv demo test test-fast lint bench bench-speed bench-quality figures

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

# The data sets the benchmarks read, as the scripts' own defaults find them (devtools/environment.py):
# ../shared/data beside the checkout, or $ECGCRNN_SHARED/data.
DATA := $(or $(ECGCRNN_SHARED),../shared)/data

# Every benchmark of bench/speed/ in turn, each with its full default arguments: about 15-20 minutes on
# 2 cores, most of it inference.py, training.py and memory.py (which keeps a 4.6 GB cache in the temporary
# folder for its next run). Each prints its tables with the machine line (cores, processor, load average).
bench-speed: venv
	$(BIN)/python bench/speed/scoring.py
	$(BIN)/python bench/speed/synthetic.py
	$(BIN)/python bench/speed/wavelet.py
	$(BIN)/python bench/speed/delineation.py
	$(BIN)/python bench/speed/measure.py
	$(BIN)/python bench/speed/inference.py
	$(BIN)/python bench/speed/training.py
	$(BIN)/python bench/speed/memory.py

# An alias: the speed benchmarks.
bench: bench-speed

# Every benchmark of bench/quality/ in turn: about 15 minutes on 2 cores. All run with their full default
# arguments but classification.py, whose full runs train the CRNN for an hour or more each: here it gives
# the references alone (always normal, logistic regression, criteria) across sources. Its full commands
# are in docs/quality.md, e.g. bench/quality/classification.py $(DATA)/challenge $(DATA)/ludb_challenge
# --protocol sources --threshold-folds 2 --epochs 10 --patience 3 --seeds 2021 (about 70 minutes).
bench-quality: venv
	$(BIN)/python bench/quality/thresholds.py
	$(BIN)/python bench/quality/intervals.py
	$(BIN)/python bench/quality/measurements.py
	$(BIN)/python bench/quality/measure.py
	$(BIN)/python bench/quality/delineation.py
	$(BIN)/python bench/quality/criteria_transfer.py $(DATA)/challenge $(DATA)/ludb_challenge
	$(BIN)/python bench/quality/classification.py $(DATA)/challenge $(DATA)/ludb_challenge \
		--protocol sources --references-only

figures: venv
	$(BIN)/python -m devtools.figures
