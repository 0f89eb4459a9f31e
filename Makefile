# findme: one entry point to install, run, test, benchmark and lint.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: help install run test test-unit test-integration bench bench-quick proto lint typecheck format clean

help:
	@echo "make run    - start the whole system (embedded PostgreSQL + Redis), print the URL"
	@echo "make test   - unit tests of every service, then the integration tests"
	@echo "make bench  - benchmarks (numbers in README); make bench-quick for a short pass"
	@echo "make proto  - regenerate gRPC stubs from proto/"
	@echo "make lint   - ruff + mypy --strict (the same checks as .pre-commit-config.yaml)"

.venv/.installed: uv.lock pyproject.toml libs/common/pyproject.toml services/*/pyproject.toml devstack/pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv>=0.5"
	$(UV) sync --all-packages --frozen
	@touch $@

install: .venv/.installed

run: install
	$(UV) run --frozen python -m findme_devstack

test: install
	$(UV) run --frozen pytest libs devstack tests/test_*.py tests/deploy services $(PYTEST_ARGS)
	$(UV) run --frozen pytest tests/integration $(PYTEST_ARGS)

test-unit: install
	$(UV) run --frozen pytest libs devstack tests/test_*.py tests/deploy services $(PYTEST_ARGS)

test-integration: install
	$(UV) run --frozen pytest tests/integration $(PYTEST_ARGS)

bench: install
	$(UV) run --frozen python -m bench $(BENCH_ARGS)

bench-quick: install
	$(UV) run --frozen python -m bench --quick $(BENCH_ARGS)

proto: install
	$(UV) run --frozen python scripts/gen_proto.py

lint: install typecheck
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

# mypy --strict (strict = true in pyproject.toml) on every package's source.
typecheck: install
	$(UV) run --frozen mypy libs/common/src/findme_common services/*/findme_* devstack/findme_devstack

format: install
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

clean:
	rm -rf .venv .data .pytest_cache .ruff_cache .mypy_cache
