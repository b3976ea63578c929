# The two commands a newcomer needs:  `make demo` (the main job)  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean setup

$(STAMP): pyproject.toml setup.py src/distillguard/fingerprint/_accel.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,embeddings]'
	touch $(STAMP)

setup: $(STAMP)

## The main job on embedded defaults (SQLite, in-process limits).
demo: $(STAMP)
	$(BIN)/distillguard demo

## The whole test suite (uses the local PostgreSQL and Redis when they run).
test: $(STAMP)
	./scripts/ensure-chromium
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	DG_EXPECT_ACCEL=1 $(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info
	find src -name "*.so" -delete
