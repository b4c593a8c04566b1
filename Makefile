# The two promised commands: `make demo` and `make test` work on a fresh clone with Python 3.10+ and pip.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench bench-quick check clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m tinygrad_dl demo

test: $(STAMP)
	$(PY) -m pytest -q

check: $(STAMP)
	$(PY) -m tinygrad_dl check

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m tinygrad_dl bench

bench-quick: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m tinygrad_dl bench --quick

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .hypothesis
