# One entry point for people and CI. Every target bootstraps .venv from python3 and pip alone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The BlueZ advertiser tests need a private D-Bus session bus; dbus-run-session gives one.
DBUS   := $(shell command -v dbus-run-session >/dev/null 2>&1 && echo "dbus-run-session --")

.PHONY: demo serve test lint typecheck unit check-imports clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: set up, simulate the manual's Figure 1 system over a weekend, write smartbms-demo/
demo: $(STAMP)
	$(BIN)/smartbms demo --out smartbms-demo

## serve: set up and run a live Figure 1 twin with its web app on http://127.0.0.1:8000/
serve: $(STAMP)
	$(BIN)/smartbms serve

## test: set up and run everything CI runs: format, lint, types, import contracts, tests
test: lint typecheck check-imports unit

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

check-imports: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(DBUS) $(BIN)/pytest -q -p no:cacheprovider --hypothesis-profile=ci -n auto; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
