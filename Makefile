# The two set-up commands of the README: `make demo` and `make test`.
# `make demo PSERVE_ARGS=--reload` restarts the demo when its code changes.
# `make docs` builds the documentation into docs/_build/html and runs its examples.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Warnings are errors; the HTML and doctest builders share one read of the sources.
SPHINX := $(BIN)/sphinx-build -W --keep-going -q -d docs/_build/doctrees docs

.PHONY: demo docs test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	$(BIN)/pserve development.ini $(PSERVE_ARGS)

docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(SPHINX) -b html docs/_build/html
	$(SPHINX) -b doctest docs/_build/doctest

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy pyramid_dbsession inspector
	$(BIN)/lint-imports
	$(SPHINX) -b html docs/_build/html
	$(SPHINX) -b doctest docs/_build/doctest
	$(BIN)/python -m pytest --cov --cov-report=term
