VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-load lint format bench bench-extract train clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(VENV)/bin/stance run

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite while every core is kept busy by another process, as on a shared CI machine.
test-load:
	STANCE_CI_LOAD=auto bash .ci/run

lint: install
	$(VENV)/bin/ruff format --check services workers tests migrations benchmarks
	$(VENV)/bin/ruff check services workers tests migrations benchmarks
	$(VENV)/bin/mypy services workers

format: install
	$(VENV)/bin/ruff format services workers tests migrations benchmarks
	$(VENV)/bin/ruff check --fix services workers tests migrations benchmarks

# Retrain the stance decision on ../shared/eval/train: prints leave-one-writer-out figures, the
# learning curve, dev and real-unlabelled, and rewrites the bundled model (fixed seed).
train: install
	$(VENV)/bin/stance train --curve

bench-extract: install
	$(PY) benchmarks/bench_extract.py

bench: install
	$(PY) benchmarks/bench_service.py

clean:
	rm -rf $(VENV) .stance .pytest_cache .mypy_cache .ruff_cache
