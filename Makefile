# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/nhiemvu demo

test: $(STAMP)
	$(BIN)/ruff check .
	scripts/ensure-chromium.sh
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Figures, never timed tests: the whole city benchmark takes an hour or so
# (a decade of a 20,000-task city on both engines); bench-quick a few minutes.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.store_bench
	$(BIN)/python -m benchmarks.html_bench --city-years 3
	$(BIN)/python -m benchmarks.log_io_bench
	$(BIN)/python -m benchmarks.import_bench
	$(BIN)/python -m benchmarks.city_bench

bench-quick: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.html_bench
	$(BIN)/python -m benchmarks.log_io_bench --tasks 2000 --repeats 1
	$(BIN)/python -m benchmarks.import_bench --tasks 2000 --rows 500,1000 --repeats 1
	$(BIN)/python -m benchmarks.city_bench --quick

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache nhiemvu-demo.db*
