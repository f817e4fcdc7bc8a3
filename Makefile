# The two set-up commands of the README: `make demo` and `make test`.
# `make demo PSERVE_ARGS=--reload` restarts the demo when its code changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	$(BIN)/pserve development.ini $(PSERVE_ARGS)

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy pyramid_dbsession inspector
	$(BIN)/lint-imports
	$(BIN)/python -m pytest --cov --cov-report=term
