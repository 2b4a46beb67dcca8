# One virtual environment at .venv/ holds the project, its instrumentors and the test tools.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
INSTRUMENTORS := $(wildcard instrumentors/*/pyproject.toml)
# The local stand-in for the providers' HTTP APIs: the demo, examples, tests and benchmarks talk to it.
STANDIN       := standin/pyproject.toml

.PHONY: setup test test-fast lint demo soak clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(INSTRUMENTORS) $(STANDIN)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,demo]" $(foreach p,$(INSTRUMENTORS) $(STANDIN),-e $(dir $(p)))
	touch $(STAMP)

# Everything but the soak tests (pyproject's addopts); test-fast skips the `slow` ones too (processes, collectors, load).
test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check src instrumentors standin tests
	$(BIN)/mypy --strict src instrumentors/*/src standin/src tests

demo: setup
	$(BIN)/agentops-otel demo

soak: setup
	$(BIN)/python -m pytest -q -m soak

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Benchmarks against the peer OpenAI instrumentations, in their own environment:
# bench/.venv is never a runtime or test dependency of the product.
BENCH_VENV  := bench/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: bench bench-quick bench-instructions

$(BENCH_STAMP): bench/requirements.txt pyproject.toml $(INSTRUMENTORS) $(STANDIN)
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py --update-readme

bench-quick: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py --quick --out $(BENCH_VENV)/quick

# Instructions per call under valgrind's cachegrind (needs valgrind; ~10 minutes): bench/instructions.py
bench-instructions: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/instructions.py
